/* flock-unsupported.c — an LD_PRELOAD shim for tests/e2e-slurm.sh: flock(2)
 * fails with ENOLCK, as on NFS without lockd (Lustre without -o flock: ENOSYS), so
 * the test sees what mlplab says on such a filesystem. */
#include <errno.h>
#include <sys/file.h>

int flock(int fd, int operation)
{
    (void)fd;
    (void)operation;
    errno = ENOLCK;
    return -1;
}
