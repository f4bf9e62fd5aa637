/*
 * write_arrays.c - writes the seed article's data files:
 * DIR/numpy_array_length_N.txt, one double per line in np.savetxt's
 * default "%.18e" format, for each length N given.
 *
 *   write_arrays DIR N...
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	unsigned seed = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: write_arrays DIR N...\n");
		return 64;
	}
	for (int i = 2; i < argc; i++) {
		long n = atol(argv[i]);
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/numpy_array_length_%ld.txt", argv[1], n);
		f = fopen(path, "w");
		if (!f) {
			perror(path);
			return 1;
		}
		for (long j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			fprintf(f, "%.18e\n", (double)(seed >> 8) / (double)(1u << 24) - 0.5);
		}
		if (fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	return 0;
}
