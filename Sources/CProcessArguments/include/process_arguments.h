#ifndef FTRACE_EXPORTER_PROCESS_ARGUMENTS_H
#define FTRACE_EXPORTER_PROCESS_ARGUMENTS_H

/// The argc and argv the C library handed to the program, or 0 and NULL where it hands them
/// to no constructor.
int process_argument_count(void);
char *const *process_argument_vector(void);

#endif
