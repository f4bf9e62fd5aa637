#!/bin/sh
# samples/demo.sh - the seed article's experiment, traced by memtrack:
# arrays of doubles cost 8 bytes per element at the line that allocates
# them; reading a numpy_array_length_N.txt file into memory grows the heap
# with N, while mapping the same file leaves the heap flat and shows up as
# a mapping instead (which tracemalloc cannot see).
#
#   samples/demo.sh BUILD_DIR
set -eu
build=${1:-build}
out=$build/demo
bin=$build/samples/O2
mt=./memtrack
mkdir -p "$out"

show() {
	echo "\$ $*"
	"$@"
}

echo "== Ten arrays of doubles, length 1 to 900001 (the article's comp_tracem.py)"
show $mt run -o "$out/arrays.log" -- "$bin/arrays" >/dev/null
show $mt top "$out/arrays.log" -n 10
echo

lengths="1 100001 200001 300001 400001 500001 600001 700001 800001 900001"
# shellcheck disable=SC2086
"$bin/write_arrays" "$out" $lengths
echo "== Reading numpy_array_length_N.txt into memory (load_text) vs mapping it (map_file)"
printf '%-8s  %-50s  %-14s  %s\n' length "load_text: heap at its own lines" \
	"map_file: heap" "map_file: mapping"
for n in $lengths; do
	file=$out/numpy_array_length_$n.txt
	$mt run -o "$out/load-$n.log" -- "$bin/load_text" "$file" >/dev/null 2>&1
	$mt run -o "$out/map-$n.log" -- "$bin/map_file" "$file" >/dev/null 2>&1
	load=$($mt top "$out/load-$n.log" --include 'samples/*' -n 1 | sed 's/, average.*//')
	mapheap=$($mt top "$out/map-$n.log" --include 'samples/*' -n 1 2>/dev/null |
		sed 's/.*size=//; s/,.*//')
	mapping=$($mt top "$out/map-$n.log" --kind mmap --include 'samples/*' -n 1 |
		sed 's/.*size=//; s/,.*//')
	printf '%-8s  %-50s  %-14s  %s\n' "$n" "$load" "${mapheap:-nothing}" "$mapping"
done
echo
echo "== Where the mapped file shows up"
show $mt top "$out/map-900001.log" --kind mmap -n 3
echo
show $mt summary "$out/load-900001.log"
