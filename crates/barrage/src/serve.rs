//! The service a sweep starts for each configuration (`--serve`): its command line with
//! the values filled in, started by `sh -c` in a process group of its own with its output
//! kept in a file, waited for until it answers, and stopped (the whole group) after the
//! search, on Ctrl-C and on error, also when the caller unwinds (the guard's `Drop`).
