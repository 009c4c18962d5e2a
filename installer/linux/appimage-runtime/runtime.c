/*
 * AppImage type-2 runtime for Afterimage, built only from Debian packages
 * (libsquashfuse-dev, libfuse3-dev and the compression libraries; see build_runtime.sh).
 *
 * An AppImage is this ELF executable with a SquashFS image appended; bytes 8-10 of the ELF
 * header carry the type-2 magic "AI\x02" (build_runtime.sh writes them). At start the
 * runtime finds the image right after its own ELF end (section header table), then:
 *
 *   (no option)                  mounts the image read-only with FUSE in a child process and
 *                                execs AppDir/AppRun; without FUSE it falls back to
 *                                --appimage-extract-and-run (and says so on stderr)
 *   --appimage-extract-and-run   extracts to $TMPDIR/appimage_extracted_<id>, runs AppRun,
 *                                deletes the folder afterwards (unless
 *                                APPIMAGE_EXTRACT_AND_RUN_NODELETE is non-empty); the same when the
 *                                environment has APPIMAGE_EXTRACT_AND_RUN=1
 *   --appimage-extract           extracts to ./squashfs-root
 *   --appimage-offset            prints the offset of the image
 *   --appimage-mount             mounts and prints the mount point until interrupted
 *   --appimage-version, --appimage-help
 *
 * AppRun gets APPIMAGE (this file), APPDIR (the mounted or extracted folder), ARGV0 and OWD
 * (the caller's working directory), as with the reference runtime. The sections .upd_info,
 * .sha256_sig and .sig_key exist (empty) for tools that embed update or signature data.
 */
#define _GNU_SOURCE
/* squashfuse's config.h sets _POSIX_C_SOURCE: include it before the system headers. */
#include "squashfuse.h"
#include "ll.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUNTIME_VERSION "afterimage-type2-runtime 1"

__attribute__((section(".upd_info"), used)) static char update_info[1024];
__attribute__((section(".sha256_sig"), used)) static char sha256_sig[1024];
__attribute__((section(".sig_key"), used)) static char sig_key[8192];

static char self_path[PATH_MAX];

static void die(const char *what) {
    fprintf(stderr, "AppImage runtime: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The ELF file's own size: where the appended SquashFS image starts. */
static off_t elf_size(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("cannot open the AppImage");
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh
        || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
        fprintf(stderr, "AppImage runtime: %s is not a 64-bit ELF file\n", path);
        exit(1);
    }
    close(fd);
    return (off_t)(eh.e_shoff + (off_t)eh.e_shentsize * eh.e_shnum);
}

static int mkdirs(const char *path, mode_t mode) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST) return -1;
    return 0;
}

/* Extract the whole image into dest (created). Returns 0 on success. */
static int extract(const char *image, off_t offset, const char *dest) {
    sqfs fs;
    sqfs_err err = sqfs_open_image(&fs, image, (size_t)offset);
    if (err != SQFS_OK) {
        fprintf(stderr, "AppImage runtime: cannot read the SquashFS image in %s\n", image);
        return 1;
    }
    if (mkdirs(dest, 0755) != 0) {
        perror(dest);
        return 1;
    }
    sqfs_traverse trv;
    if (sqfs_traverse_open(&trv, &fs, sqfs_inode_root(&fs)) != SQFS_OK) {
        fprintf(stderr, "AppImage runtime: cannot list the image\n");
        return 1;
    }
    static char buf[1 << 20];
    int rc = 0;
    while (rc == 0 && sqfs_traverse_next(&trv, &err)) {
        if (trv.dir_end) continue;
        char out[PATH_MAX];
        if ((size_t)snprintf(out, sizeof out, "%s/%s", dest, trv.path) >= sizeof out) {
            rc = 1;
            break;
        }
        sqfs_inode inode;
        if (sqfs_inode_get(&fs, &inode, sqfs_dentry_inode(&trv.entry)) != SQFS_OK) {
            rc = 1;
            break;
        }
        mode_t mode = inode.base.mode & 07777;
        switch (inode.base.inode_type) {
        case SQUASHFS_DIR_TYPE:
        case SQUASHFS_LDIR_TYPE:
            if (mkdir(out, mode | 0700) != 0 && errno != EEXIST) rc = 1;
            break;
        case SQUASHFS_REG_TYPE:
        case SQUASHFS_LREG_TYPE: {
            unlink(out);
            int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode | 0600);
            if (fd < 0) {
                rc = 1;
                break;
            }
            uint64_t size = inode.xtra.reg.file_size;
            for (uint64_t pos = 0; pos < size && rc == 0;) {
                sqfs_off_t n = (sqfs_off_t)((size - pos) < sizeof buf ? (size - pos) : sizeof buf);
                if (sqfs_read_range(&fs, &inode, (sqfs_off_t)pos, &n, buf) != SQFS_OK || n <= 0) {
                    rc = 1;
                    break;
                }
                for (sqfs_off_t done = 0; done < n;) {
                    ssize_t w = write(fd, buf + done, (size_t)(n - done));
                    if (w < 0) {
                        rc = 1;
                        break;
                    }
                    done += w;
                }
                pos += (uint64_t)n;
            }
            if (close(fd) != 0) rc = 1;
            if (rc == 0 && chmod(out, mode) != 0) rc = 1;
            break;
        }
        case SQUASHFS_SYMLINK_TYPE:
        case SQUASHFS_LSYMLINK_TYPE: {
            char target[PATH_MAX];
            size_t size = sizeof target;
            if (sqfs_readlink(&fs, &inode, target, &size) != SQFS_OK) {
                rc = 1;
                break;
            }
            unlink(out);
            if (symlink(target, out) != 0) rc = 1;
            break;
        }
        default:
            break; /* devices, fifos and sockets have no place in an AppImage */
        }
        if (rc) fprintf(stderr, "AppImage runtime: cannot extract %s: %s\n", out, strerror(errno));
    }
    if (err != SQFS_OK) rc = 1;
    sqfs_traverse_close(&trv);
    sqfs_destroy(&fs);
    return rc;
}

static void set_app_env(const char *appdir, const char *argv0) {
    char cwd[PATH_MAX];
    setenv("APPIMAGE", self_path, 1);
    setenv("APPDIR", appdir, 1);
    setenv("ARGV0", argv0, 1);
    if (getcwd(cwd, sizeof cwd)) setenv("OWD", cwd, 1);
}

static void exec_apprun(const char *appdir, int argc, char **argv) {
    char apprun[PATH_MAX];
    snprintf(apprun, sizeof apprun, "%s/AppRun", appdir);
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) die("out of memory");
    args[0] = apprun;
    for (int i = 1; i < argc; i++) args[i] = argv[i];
    execv(apprun, args);
    die("cannot run AppRun");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static pid_t app_pid = 0;
static void forward_signal(int sig) {
    if (app_pid > 0) kill(app_pid, sig);
}

/* argv[0..argc) are the app's arguments (argv[0] is ignored). */
static int extract_and_run(off_t offset, const char *argv0, int argc, char **argv) {
    struct stat st;
    if (stat(self_path, &st) != 0) die("cannot stat the AppImage");
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/appimage_extracted_%lx_%lx_%d", tmp, (unsigned long)st.st_ino,
             (unsigned long)st.st_mtime, (int)getpid());
    if (extract(self_path, offset, dir) != 0) return 1;
    set_app_env(dir, argv0);
    app_pid = fork();
    if (app_pid < 0) die("fork");
    if (app_pid == 0) exec_apprun(dir, argc, argv);
    signal(SIGINT, forward_signal);
    signal(SIGTERM, forward_signal);
    signal(SIGHUP, forward_signal);
    int status = 0;
    while (waitpid(app_pid, &status, 0) < 0 && errno == EINTR) {}
    const char *keep = getenv("APPIMAGE_EXTRACT_AND_RUN_NODELETE");
    if (!keep || !*keep)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Child: serve the image at mountpoint until SIGTERM (or the parent's death). Reports
 * success (1) or failure (0) on ready_fd before the loop starts. */
static int serve_fuse(off_t offset, const char *mountpoint, int ready_fd, int die_with_parent) {
    if (die_with_parent) prctl(PR_SET_PDEATHSIG, SIGTERM);
    struct fuse_lowlevel_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.getattr = sqfs_ll_op_getattr;
    ops.opendir = sqfs_ll_op_opendir;
    ops.releasedir = sqfs_ll_op_releasedir;
    ops.readdir = sqfs_ll_op_readdir;
    ops.lookup = sqfs_ll_op_lookup;
    ops.open = sqfs_ll_op_open;
    ops.create = sqfs_ll_op_create;
    ops.release = sqfs_ll_op_release;
    ops.read = sqfs_ll_op_read;
    ops.readlink = sqfs_ll_op_readlink;
    ops.listxattr = sqfs_ll_op_listxattr;
    ops.getxattr = sqfs_ll_op_getxattr;
    ops.forget = sqfs_ll_op_forget;
    ops.statfs = stfs_ll_op_statfs;

    char ok = 0;
    sqfs_ll *ll = sqfs_ll_open(self_path, (size_t)offset);
    if (!ll) {
        (void)!write(ready_fd, &ok, 1);
        return 1;
    }
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    fuse_opt_add_arg(&args, "appimage");
    fuse_opt_add_arg(&args, "-o");
    fuse_opt_add_arg(&args, "ro,nodev,nosuid,subtype=appimage");
    sqfs_ll_chan ch;
    int rc = 1;
    if (sqfs_ll_mount(&ch, mountpoint, &args, &ops, sizeof ops, ll) == SQFS_OK) {
        if (fuse_set_signal_handlers(ch.session) != -1) {
            ok = 1;
            (void)!write(ready_fd, &ok, 1);
            close(ready_fd);
            rc = fuse_session_loop(ch.session) < 0;
            fuse_remove_signal_handlers(ch.session);
        }
        sqfs_ll_unmount(&ch, mountpoint);
    }
    if (!ok) (void)!write(ready_fd, &ok, 1);
    fuse_opt_free_args(&args);
    sqfs_ll_destroy(ll);
    free(ll);
    rmdir(mountpoint);
    return rc;
}

/* Mount in a child process; returns the child's pid (or -1) and fills mountpoint. */
static pid_t mount_image(off_t offset, char *mountpoint, size_t size, int die_with_parent) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    const char *base = strrchr(self_path, '/');
    base = base ? base + 1 : self_path;
    char name[16];
    snprintf(name, sizeof name, "%.6s", base);
    snprintf(mountpoint, size, "%s/.mount_%sXXXXXX", tmp, name);
    if (!mkdtemp(mountpoint)) return -1;
    int pipefd[2];
    if (pipe(pipefd) != 0) return -1;
    pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
        close(pipefd[0]);
        _exit(serve_fuse(offset, mountpoint, pipefd[1], die_with_parent));
    }
    close(pipefd[1]);
    char ok = 0;
    ssize_t n;
    while ((n = read(pipefd[0], &ok, 1)) < 0 && errno == EINTR) {}
    close(pipefd[0]);
    if (n != 1 || !ok) {
        waitpid(child, NULL, 0);
        rmdir(mountpoint);
        return -1;
    }
    return child;
}

static void usage(void) {
    printf("AppImage options (" RUNTIME_VERSION "):\n"
           "  --appimage-extract           extract the contents to ./squashfs-root\n"
           "  --appimage-extract-and-run   run without FUSE (extracts to $TMPDIR first)\n"
           "  --appimage-mount             mount the image and print the mount point\n"
           "  --appimage-offset            print the offset of the SquashFS image\n"
           "  --appimage-version           print the runtime version\n"
           "  --appimage-help              this text\n"
           "Any other arguments go to the application.\n");
}

int main(int argc, char **argv) {
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n < 0) die("cannot find the AppImage (/proc/self/exe)");
    self_path[n] = '\0';
    const char *env_image = getenv("TARGET_APPIMAGE");
    if (env_image && *env_image) snprintf(self_path, sizeof self_path, "%s", env_image);
    off_t offset = elf_size(self_path);
    const char *arg = argc > 1 ? argv[1] : "";

    if (strcmp(arg, "--appimage-offset") == 0) {
        printf("%lld\n", (long long)offset);
        return 0;
    }
    if (strcmp(arg, "--appimage-version") == 0) {
        printf("%s\n", RUNTIME_VERSION);
        return 0;
    }
    if (strcmp(arg, "--appimage-help") == 0) {
        usage();
        return 0;
    }
    if (strcmp(arg, "--appimage-extract") == 0) {
        int rc = extract(self_path, offset, "squashfs-root");
        if (rc == 0) printf("squashfs-root\n");
        return rc;
    }
    if (strcmp(arg, "--appimage-extract-and-run") == 0)
        return extract_and_run(offset, argv[0], argc - 1, argv + 1);
    if (strncmp(arg, "--appimage-", 11) == 0) {
        fprintf(stderr, "AppImage runtime: unknown option %s\n", arg);
        usage();
        return 1;
    }
    const char *ear = getenv("APPIMAGE_EXTRACT_AND_RUN");
    if (ear && strcmp(ear, "1") == 0) return extract_and_run(offset, argv[0], argc, argv);

    char mountpoint[PATH_MAX];
    int mount_only = strcmp(arg, "--appimage-mount") == 0;
    pid_t server = mount_image(offset, mountpoint, sizeof mountpoint, !mount_only);
    if (server < 0) {
        fprintf(stderr, "AppImage runtime: cannot mount the AppImage with FUSE (is FUSE 3 "
                        "installed and /dev/fuse usable?); extracting it to $TMPDIR and running "
                        "from there instead (--appimage-extract-and-run)\n");
        return extract_and_run(offset, argv[0], argc, argv);
    }
    if (mount_only) {
        printf("%s\n", mountpoint);
        fflush(stdout);
        int status;
        while (waitpid(server, &status, 0) < 0 && errno == EINTR) {}
        return 0;
    }
    /* Exec AppRun in this process (same pid, signals reach the app); the FUSE child
     * unmounts when this process ends (PR_SET_PDEATHSIG). */
    set_app_env(mountpoint, argv[0]);
    exec_apprun(mountpoint, argc, argv);
    return 1;
}
