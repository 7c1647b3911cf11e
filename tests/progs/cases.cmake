# The native-vs-x86run cases registered with CTest (run_prog.sh compares
# stdout, stderr and exit status). Only cases that pass under the current
# translator are listed; FINDINGS.md has the others.
vmp_prog_test(ints ints)
vmp_prog_test(fp_x87 fp_x87)
vmp_prog_test(fp_sse2 fp_sse2)
vmp_prog_test(strings strings)
vmp_prog_test(control control)
vmp_prog_test(jit jit)
vmp_prog_test(fileio fileio @TMP@)
vmp_prog_test(args args one "two words" "")
set_tests_properties(progs_args PROPERTIES ENVIRONMENT "VMP_TEST_A=hello;VMP_TEST_B=x=y")
vmp_prog_test(exit_status crash exit)
vmp_prog_test(sigsegv crash segv)
vmp_prog_test(sigfpe crash div0)
vmp_prog_test(sigill crash ud2)
vmp_prog_test(sigabrt crash abort)
vmp_prog_test(sigtrap crash int3)
vmp_prog_test(efault crash efault)
