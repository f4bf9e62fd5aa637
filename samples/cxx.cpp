/*
 * cxx.cpp - C++ allocation: operator new and new[] (which call malloc once
 * each), aligned and nothrow new, a std::vector that grows, a std::map
 * filled and destroyed (a thousand new and delete), and, with the
 * argument "throw", a
 * std::bad_alloc thrown out of operator new and caught, after which the
 * program allocates again (the return values memtrack records must still
 * be right).  valgrind aborts on a failed new, hence the opt-in.
 *
 *   cxx [throw]
 * Prints what stays live at each of its lines, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 */
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <vector>

extern "C" {
#include "say.h"
}

struct Node {
	long v[4];
};

/* over-aligned: its new is operator new(size_t, std::align_val_t) */
struct alignas(64) Wide {
	char c[64];
};

static void *volatile sink;

int main(int argc, char **argv)
{
	int line_node, line_array, line_grow, line_wide, line_nothrow, line_after = 0;
	Node *node = new Node(); line_node = __LINE__;
	int *array = new int[100]; line_array = __LINE__;
	std::vector<long> *grown = new std::vector<long>();

	for (int i = 0; i < 1000; i++) {
		grown->push_back(i); line_grow = __LINE__;
	}
	Wide *wide = new Wide(); line_wide = __LINE__;
	int *nothrow = new (std::nothrow) int[10]; line_nothrow = __LINE__;
	{
		std::map<int, long> squares;

		for (int i = 0; i < 1000; i++)
			squares[i] = (long)i * i;
		sink = &squares;
	}
	sink = node;
	sink = array;
	sink = wide;
	sink = nothrow;
	for (int i = 0; i < 10; i++) {
		Wide *tmp = new Wide[2];
		sink = tmp;
		delete[] tmp;
	}
	for (int i = 0; i < 10; i++) {
		Node *tmp = new Node();
		sink = tmp;
		delete tmp;
	}
	if (argc > 1 && !strcmp(argv[1], "throw")) {
		try {
			sink = new char[(size_t)1 << 62];
		} catch (const std::bad_alloc &) {
			Node *after = new Node(); line_after = __LINE__;
			sink = after;
		}
	}
	say("expect heap samples/cxx.cpp:%d %zu 1\n", line_node, sizeof(Node));
	say("expect heap samples/cxx.cpp:%d %zu 1\n", line_array, 100 * sizeof(int));
	/* the vector object itself is made at the line of its new; its buffer,
	 * grown by doubling, at the push_back that last grew it */
	say("expect heap samples/cxx.cpp:%d %zu 1\n", line_array + 1, sizeof(*grown));
	say("expect heap samples/cxx.cpp:%d %zu 1\n", line_grow, grown->capacity() * sizeof(long));
	say("expect heap samples/cxx.cpp:%d %zu 1\n", line_wide, sizeof(Wide));
	say("expect heap samples/cxx.cpp:%d %zu 1\n", line_nothrow, 10 * sizeof(int));
	if (line_after)
		say("expect heap samples/cxx.cpp:%d %zu 1\n", line_after, sizeof(Node));
	return 0;
}
