// cxxapp: a C++ program that crashes in a function taking a std::string
// and a std::vector<int>, which gdb shows through libstdc++'s pretty
// printers ("hello", std::vector of length 3) or, without them, as raw
// structures.  Frames: cxx_crash, main.
#include <string>
#include <vector>

__attribute__((noinline)) static int cxx_crash(std::string s, std::vector<int> v)
{
	volatile int *p = nullptr;
	*p = static_cast<int>(s.size()) + v[0]; // LINE:cxx_crash
	return *p;
}

int main()
{
	std::string s = "hello";
	std::vector<int> v = {1, 2, 3};
	return cxx_crash(s, v); // LINE:main
}
