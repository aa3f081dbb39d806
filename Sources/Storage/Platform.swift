// Sextant runs on Linux. Its files, locks and threads use glibc directly (posix_fallocate,
// setpriority on threads, flock, mmap flags), and the package declares no Apple platform: a
// build elsewhere stops here with the reason instead of on the first glibc call.
#if !os(Linux)
#error("Sextant builds on Linux only (glibc file, lock and thread calls); see README, Set-up")
#endif
