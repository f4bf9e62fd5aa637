// threads.cpp - the benchmark's C++ program: 4 std::threads, each filling a
// std::map of strings and a growing std::vector, then dropping both: about
// 60,000 operator new calls per thread, all threads at once.
//
//   threads [N]        N map entries per thread (default 30000)
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

static void work(int n, int seed, long *out)
{
	std::map<int, std::string> m;
	std::vector<int> v;

	for (int i = 0; i < n; i++) {
		m[i * 7 + seed] = std::string(24 + i % 40, 'a' + i % 26);
		v.push_back(i);
	}
	long sum = 0;
	for (const auto &kv : m)
		sum += kv.second.size();
	*out = sum + (long)v.size();
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? std::atoi(argv[1]) : 30000;
	long sums[4];
	std::vector<std::thread> ts;

	for (int t = 0; t < 4; t++)
		ts.emplace_back(work, n, t, &sums[t]);
	for (auto &t : ts)
		t.join();
	return sums[0] + sums[1] + sums[2] + sums[3] > 0 ? 0 : 1;
}
