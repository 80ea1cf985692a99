/*
 * core_dump.c - ELF core writer (core_dump.h).  The layouts of the notes
 * are those of Linux x86-64 (<sys/procfs.h>, <sys/user.h>), which is what
 * gdb and readelf expect of a core file for this architecture.
 */
#include "core_dump.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/user.h>
#include <time.h>
#include <unistd.h>

#include "glint/glint.h"

_Static_assert(sizeof(struct elf_prstatus) == 336, "x86-64 NT_PRSTATUS layout");
_Static_assert(sizeof(struct elf_prpsinfo) == 136, "x86-64 NT_PRPSINFO layout");
_Static_assert(sizeof(struct user_fpregs_struct) == 512, "FXSAVE layout");

#define PAGE 4096u
#define NOTE_NAME "CORE"
#define MAX_NOTES 4u
#define NOTES_MAX_SIZE 2048u

/* Appends one note (name "CORE") to buf. */
static size_t put_note(uint8_t *buf, size_t pos, uint32_t type, const void *desc, uint32_t size) {
    Elf64_Nhdr nh = {.n_namesz = sizeof NOTE_NAME, .n_descsz = size, .n_type = type};
    memcpy(buf + pos, &nh, sizeof nh);
    pos += sizeof nh;
    memset(buf + pos, 0, 8);
    memcpy(buf + pos, NOTE_NAME, sizeof NOTE_NAME);
    pos += 8; /* "CORE\0" padded to 4 bytes: 8 */
    memcpy(buf + pos, desc, size);
    pos += size;
    while (pos % 4) buf[pos++] = 0;
    return pos;
}

static void fill_gregs(const glint_regs *r, struct user_regs_struct *u) {
    memset(u, 0, sizeof *u);
    u->r15 = r->r15;
    u->r14 = r->r14;
    u->r13 = r->r13;
    u->r12 = r->r12;
    u->rbp = r->rbp;
    u->rbx = r->rbx;
    u->r11 = r->r11;
    u->r10 = r->r10;
    u->r9 = r->r9;
    u->r8 = r->r8;
    u->rax = r->rax;
    u->rcx = r->rcx;
    u->rdx = r->rdx;
    u->rsi = r->rsi;
    u->rdi = r->rdi;
    u->orig_rax = ~0ull; /* not in a system call */
    u->rip = r->rip;
    u->cs = r->cs;
    u->eflags = r->rflags;
    u->rsp = r->rsp;
    u->ss = r->ss;
    u->fs_base = r->fs_base;
    u->gs_base = r->gs_base;
    u->ds = r->ds;
    u->es = r->es;
    u->fs = r->fs;
    u->gs = r->gs;
}

static void fill_fpregs(const glint_fpu_regs *f, struct user_fpregs_struct *u) {
    memset(u, 0, sizeof *u);
    u->cwd = f->fcw;
    u->swd = f->fsw;
    u->ftw = f->ftw;
    u->fop = f->fop;
    u->rip = f->fip;
    u->rdp = f->fdp;
    u->mxcsr = f->mxcsr;
    u->mxcr_mask = 0xffff;
    memcpy(u->st_space, f->st, sizeof f->st);
    memcpy(u->xmm_space, f->xmm, sizeof f->xmm);
}

/* Name for files and NT_PRPSINFO: [A-Za-z0-9._-] only, at most 32 bytes. */
static void sanitise(const char *in, char *out, size_t size) {
    size_t n = 0;
    const char *base = in != NULL ? strrchr(in, '/') : NULL;
    in = base != NULL ? base + 1 : in;
    for (; in != NULL && *in && n + 1 < size && n < 32; in++) {
        char c = *in;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        out[n++] = ok ? c : '_';
    }
    if (n == 0 && size > 5) n = (size_t)snprintf(out, size, "guest");
    out[n < size ? n : size - 1] = 0;
}

static bool write_all(int fd, const void *data, uint64_t len, uint64_t off) {
    const uint8_t *p = data;
    while (len > 0) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t n = pwrite(fd, p, chunk, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return true;
}

glint_status glint_core_write(const glint_core_desc *d, char *path, size_t path_size,
                              glint_error *err) {
    if (d == NULL || d->dir == NULL || d->dir[0] == 0)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "no directory for the core file");
    if (d->region_count > GLINT_CORE_MAX_REGIONS)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "%u core regions, at most %u",
                          d->region_count, GLINT_CORE_MAX_REGIONS);
    const uint64_t max_size = d->max_size != 0 ? d->max_size : GLINT_CORE_DEFAULT_MAX_SIZE;

    /* Notes. */
    static const size_t notes_cap = NOTES_MAX_SIZE;
    uint8_t notes[NOTES_MAX_SIZE];
    size_t nlen = 0;
    struct elf_prstatus prs;
    memset(&prs, 0, sizeof prs);
    prs.pr_info.si_signo = d->signal;
    prs.pr_cursig = (short)d->signal;
    prs.pr_pid = 1;
    struct user_regs_struct gregs;
    fill_gregs(&d->regs, &gregs);
    _Static_assert(sizeof prs.pr_reg == sizeof gregs, "pr_reg is a user_regs_struct");
    memcpy(&prs.pr_reg, &gregs, sizeof gregs);
    prs.pr_fpvalid = d->has_fpu ? 1 : 0;
    nlen = put_note(notes, nlen, NT_PRSTATUS, &prs, sizeof prs);
    char name[40];
    sanitise(d->name, name, sizeof name);
    struct elf_prpsinfo psi;
    memset(&psi, 0, sizeof psi);
    psi.pr_state = 'R';
    psi.pr_sname = 'R';
    psi.pr_pid = 1;
    /* pr_fname is cut to its 15 characters, as the kernel does. */
    memcpy(psi.pr_fname, name, strnlen(name, sizeof psi.pr_fname - 1));
    memcpy(psi.pr_psargs, name, strnlen(name, sizeof psi.pr_psargs - 1));
    nlen = put_note(notes, nlen, NT_PRPSINFO, &psi, sizeof psi);
    if (d->has_fpu) {
        struct user_fpregs_struct fp;
        fill_fpregs(&d->fpu, &fp);
        nlen = put_note(notes, nlen, NT_FPREGSET, &fp, sizeof fp);
    }
    const uint64_t auxv[] = {AT_PAGESZ, PAGE, AT_ENTRY, d->entry, AT_NULL, 0};
    nlen = put_note(notes, nlen, NT_AUXV, auxv, sizeof auxv);
    if (nlen > notes_cap) return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "core notes too big");

    /* Which regions fit the bound, in the caller's order. */
    bool keep[GLINT_CORE_MAX_REGIONS] = {false};
    uint32_t loads = 0;
    uint64_t headers = sizeof(Elf64_Ehdr) + (1u + d->region_count) * sizeof(Elf64_Phdr) + nlen;
    uint64_t data_off = (headers + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    uint64_t total = data_off;
    for (uint32_t i = 0; i < d->region_count; i++) {
        const glint_core_region *r = &d->regions[i];
        if (r->size == 0 || r->host == NULL) continue;
        uint64_t padded = (r->size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
        if (padded > max_size || total > max_size - padded) continue;
        keep[i] = true;
        loads++;
        total += padded;
    }

    Elf64_Ehdr eh;
    memset(&eh, 0, sizeof eh);
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (uint16_t)(1u + loads);

    Elf64_Phdr ph[1 + GLINT_CORE_MAX_REGIONS];
    memset(ph, 0, sizeof ph);
    ph[0].p_type = PT_NOTE;
    ph[0].p_offset = sizeof eh + (1u + loads) * sizeof(Elf64_Phdr);
    ph[0].p_filesz = nlen;
    ph[0].p_align = 4;
    uint64_t off = data_off;
    uint32_t k = 1;
    const glint_core_region *order[1 + GLINT_CORE_MAX_REGIONS] = {NULL};
    for (uint32_t i = 0; i < d->region_count; i++) {
        if (!keep[i]) continue;
        const glint_core_region *r = &d->regions[i];
        order[k] = r;
        ph[k].p_type = PT_LOAD;
        ph[k].p_flags = ((r->perms & GLINT_PERM_READ) ? PF_R : 0) |
                        ((r->perms & GLINT_PERM_WRITE) ? PF_W : 0) |
                        ((r->perms & GLINT_PERM_EXEC) ? PF_X : 0);
        ph[k].p_offset = off;
        ph[k].p_vaddr = r->gpa;
        ph[k].p_paddr = r->gpa;
        ph[k].p_filesz = r->size;
        ph[k].p_memsz = r->size;
        ph[k].p_align = PAGE;
        off += (r->size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
        k++;
    }

    /* Write under a temporary name, rename when complete. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char final[4096], tmp[4096 + 8];
    int n = snprintf(final, sizeof final, "%s/core.%s.%ld.%lld%09ld", d->dir, name, (long)getpid(),
                     (long long)ts.tv_sec, ts.tv_nsec);
    if (n < 0 || (size_t)n >= sizeof final)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "core directory path too long");
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return glint_fail_errno(err, GLINT_E_IO, errno, "cannot create core file %s", tmp);
    bool ok = write_all(fd, &eh, sizeof eh, 0) &&
              write_all(fd, ph, (1u + loads) * sizeof(Elf64_Phdr), sizeof eh) &&
              write_all(fd, notes, nlen, ph[0].p_offset);
    for (uint32_t i = 1; ok && i < k; i++)
        ok = write_all(fd, order[i]->host, order[i]->size, ph[i].p_offset);
    /* The last region's padding, so that the size is page aligned. */
    if (ok && ftruncate(fd, (off_t)off) != 0) ok = false;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && rename(tmp, final) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        return glint_fail_errno(err, GLINT_E_IO, saved, "writing core file %s", final);
    }
    if (path != NULL && path_size > 0) snprintf(path, path_size, "%s", final);
    return GLINT_OK;
}
