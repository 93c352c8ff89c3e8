#!/usr/bin/env python3
"""gen_tok_corpus.py -- write the seed corpora of fuzz_tokenize and fuzz_tokjson.

  tests/fuzz/corpus/tokenize/  byte 0 = vocabulary (kind + 3*pre), byte 1 = flags, then text
  tests/fuzz/corpus/tokjson/   tokenizer.json [NUL tokenizer_config.json]

usage: python3 tests/fuzz/gen_tok_corpus.py   (from the repository root)"""
import json, os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
TOK = os.path.join(ROOT, "tokenize")
JSN = os.path.join(ROOT, "tokjson")
os.makedirs(TOK, exist_ok=True)
os.makedirs(JSN, exist_ok=True)

texts = [b"Hello world", b" the  theabc\n\n\tx", b"<|im_end|>x<|user|> ab", b"<|endoftext|><|im_start|>user\nhi<think>",
         b"3333 1234567 y'all 's 'LL \xc3\xa9t\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\xa6\x99.cpp",
         b"\xff\xfe\xc3(\xe2\x82 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\x80", b"   \n\n \r\n  \xc2\x85\xe3\x80\x80 end  ",
         b"[CLS] Hello, WORLD! Caf\xc3\xa9 na\xc3\xafve \xe4\xb8\xad \xef\xbc\x81", b"", b"a" * 200 + b" " + b"ab" * 100]
n = 0
for kind in range(3):
    pres = range(14) if kind == 1 else range(2)  # 14 pre-tokenizers in fuzz_tokenize.c
    for pre in pres:
        for i, t in enumerate(texts):
            if kind == 1 and pre > 1 and i not in (0, 4, 5, 6):
                continue
            flags = (i + pre) % 8
            with open(os.path.join(TOK, f"k{kind}_p{pre:02d}_t{i}"), "wb") as f:
                f.write(bytes([kind + 3 * pre, flags]) + t)
            n += 1
print("tokenize seeds:", n)

bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}


def gpt2_vocab():
    bs = list(range(0x21, 0x7f)) + list(range(0xa1, 0xad)) + list(range(0xae, 0x100))
    cs = bs[:]
    k = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + k)
            k += 1
    return {chr(c): i for i, (b, c) in enumerate(sorted(zip(bs, cs)))}


v = gpt2_vocab()
for m in ["Ġt", "he", "Ġthe", "in"]:
    v[m] = len(v)
merges = ["Ġ t", "h e", "Ġt he", "i n"]
added = [{"id": len(v), "content": "<|begin_of_text|>", "special": True},
         {"id": len(v) + 1, "content": "<|eot_id|>", "special": True},
         {"id": len(v) + 2, "content": "<think>", "special": False}]
L3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
Q2 = L3.replace("\\p{N}{1,3}", "\\p{N}")


def bpe_json(regex, merges_fmt="str", post=None):
    if regex:
        pre = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}, bl]}
    else:
        pre = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}
    mm = merges if merges_fmt == "str" else [m.split(" ") for m in merges]
    d = {"version": "1.0", "added_tokens": added, "normalizer": None, "pre_tokenizer": pre, "post_processor": post,
         "decoder": bl, "model": {"type": "BPE", "ignore_merges": True, "byte_fallback": False, "vocab": v, "merges": mm}}
    return json.dumps(d, ensure_ascii=False).encode()


tmpl = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                                                 {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {}}
cfg = json.dumps({"bos_token": "<|begin_of_text|>", "eos_token": {"content": "<|eot_id|>"}, "add_bos_token": True,
                  "chat_template": "{{x}}"}).encode()
seeds = {
    "llama3": bpe_json(L3, post=tmpl),
    "llama3_cfg": bpe_json(L3) + b"\0" + cfg,
    "qwen2_pairs": bpe_json(Q2, "pairs") + b"\0" + json.dumps({"eos_token": "<|eot_id|>", "add_bos_token": False}).encode(),
    "gpt2_bytelevel": bpe_json(None),
}
sv = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    sv["<0x%02X>" % b] = len(sv)
for p in ["▁", "t", "h", "e", "▁t", "he", "▁the", "a"]:
    sv[p] = len(sv)
seeds["spm_bpe"] = json.dumps({
    "added_tokens": [{"id": 0, "content": "<unk>", "special": True}, {"id": 1, "content": "<s>", "special": True},
                     {"id": 2, "content": "</s>", "special": True}],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                       {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
    "pre_tokenizer": None, "decoder": {"type": "Sequence", "decoders": []},
    "model": {"type": "BPE", "byte_fallback": True, "vocab": sv, "merges": ["▁ t", "h e", "▁t he"]}},
    ensure_ascii=False).encode() + b"\0" + json.dumps(
    {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True}).encode()
wv = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##ing", "the",
                                  "caf", "##e", ",", "!"])}
seeds["wordpiece"] = json.dumps({
    "added_tokens": [{"id": i, "content": t, "special": True} for t, i in wv.items() if t.startswith("[")],
    "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None,
                   "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                                               {"Sequence": {"id": "A", "type_id": 0}},
                                                               {"SpecialToken": {"id": "[SEP]", "type_id": 0}}]},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "vocab": wv}}).encode() \
    + b"\0" + json.dumps({"cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]", "pad_token": "[PAD]",
                          "mask_token": "[MASK]"}).encode()
# the empty input is replayed by replay.c itself
seeds["bad_notjson"] = b"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0"
seeds["bad_unigram"] = b'{"model":{"type":"Unigram","vocab":[["a",-1.0]]}}'
seeds["bad_ids"] = b'{"model":{"type":"BPE","vocab":{"a":-1,"b":1.5,"c":99999999999},"merges":["a b"]}}'
seeds["bad_dup"] = b'{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[["a","b"],"x",3]},"added_tokens":[{"id":1,"content":"a"}]}'
seeds["gap_ids"] = b'{"model":{"type":"BPE","vocab":{"a":0,"b":5},"merges":["a b"]},"added_tokens":[{"id":9,"content":"<|x|>","special":false}]}'
for k, d in seeds.items():
    assert len(d) < 20000, (k, len(d))
    with open(os.path.join(JSN, k + ".json"), "wb") as f:
        f.write(d)
print("tokjson seeds:", len(seeds))
