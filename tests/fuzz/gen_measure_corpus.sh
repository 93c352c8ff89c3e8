#!/bin/sh
# Seed corpora of the profiler's fuzz targets (meterlog, trace, powerprofile,
# procfs): small, hand-made inputs covering each format's shapes.
#   sh tests/fuzz/gen_measure_corpus.sh      (from the repository root)
set -e
C=tests/fuzz/corpus
mkdir -p $C/meterlog $C/trace $C/powerprofile $C/procfs
printf 'timestamp,watts\n1700000000,3.1\n1700000001,3.4\n1700000002,5.0\n1700000006,4.8\n' > $C/meterlog/watts.csv
printf '# meter\ntime;volts;amps\n1000;5.1;0.62\n1001;5.09;0.91\n1002;5.1;0.6\n' > $C/meterlog/volts_amps_semicolon.csv
printf '1000,5\n1001,7\n1001,8\n1002,6\n' > $C/meterlog/headerless_dup.csv
printf '1000\t5.0\t1.0\n1001\t5.0\t1.2\n' > $C/meterlog/headerless_tab_va.csv
printf 'time,power (W)\n2025-01-01T00:00:00Z,4\n2025-01-01 00:00:02.5,6\n' > $C/meterlog/iso.csv
printf 't_ms,W\r\n1700000000000,1\r\n1700000000500,3\r\n' > $C/meterlog/millis_crlf.csv
printf 'time,watts\n2,1\n1,1\n' > $C/meterlog/bad_order.csv
printf '# edgelm trace v1 hz=5 n_cpus=2 mem_total_mb=8000.0 t0_unix=1700000000.0 energy=model:x86 (estimated)\n' > $C/trace/trace.csv
printf 't_s,unix_s,phase,n_procs,tree_user_s,tree_sys_s,tree_cores,sys_busy_core_s,sys_cores,rss_mb,pss_mb,sys_mem_mb,energy_j,power_w,event\n' >> $C/trace/trace.csv
awk 'BEGIN { for (i = 0; i <= 30; i++)
  printf "%.1f,%.1f,run,1,0.1,0.0,0.5,%.2f,0.75,10.0,,2000.0,1.0,2.0,\n", i * 0.2, 1700000000 + i * 0.2, i * 0.15 }' >> $C/trace/trace.csv
printf '# n_cpus=4\nunix_s,sys_busy_core_s,sys_cores\n1,0,0\n2,1,1\n3,1.5,0.5\n4,1.5' > $C/trace/truncated.csv
printf '{"schema":"edgelm-power-profile/1","name":"calibrated","p_idle_w":2.9,"p_max_w":7.1,"source":"edgelm calibrate","fit":{"n":59,"rmse_w":0.1,"r2":0.99}}\n' > $C/powerprofile/profile.json
printf '{"p_idle_w":3,"p_max_w":2}' > $C/powerprofile/bad_order.json
printf '{"p_idle_w":1e308,"p_max_w":1e309,"name":null}' > $C/powerprofile/huge.json
printf '\000%s' '1234 (a (b) c) S 1 1234 1234 0 -1 4194560 10 0 0 0 16 4 40 0 20 0 1 0 100 1000000 2560' > $C/procfs/pid_stat
printf '\001%s' 'cpu  16754 0 8567 3075596 480 0 214 0 0 0
cpu0 7932 0 3942 1539112 16 0 95 0 0 0
cpu1 8822 0 4625 1536483 464 0 119 0 0 0
intr 1 2 3' > $C/procfs/proc_stat
printf '\002%s' 'MemTotal:       24685112 kB
MemFree:        20000000 kB
MemAvailable:   22000000 kB' > $C/procfs/meminfo
printf '\003%s' '     VDD_CORE_A current(7)=2.00000000A
     VDD_CORE_V volt(15)=0.80000000V
        EXT5V_V volt(24)=5.10000000V
VDD_IO_A=0.1A
VDD_IO_V=3.3V' > $C/procfs/pmic
