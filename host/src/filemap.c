/*
 * filemap.c - host files and embedder memory mapped into guest-physical
 * memory, nanvix style: each mapping gets a KVM memory slot, identity page
 * table entries (2 MiB leaves where aligned, so a 1 GiB file costs 512
 * entries and no reads), and an entry in the FileMappingInfo table after the
 * PEB.  Files are mapped MAP_PRIVATE: copy-on-write mappings let the guest
 * write private pages while the file itself is never modified.  See
 * docs/file-mappings.md.
 *
 * Page tables: mappings take their table pages from the pool of the
 * page-table area (paging.c) and give them back on unmap; the host's pool
 * bitmap, not the guest-visible tables, says which pages are tables.
 *
 * Executable file mappings (GLINT_MAP_EXEC): W^X per mapping.  An
 * executable mapping is never writable by the guest, whether it was asked
 * for read-only or copy-on-write: its entries are read + execute and its
 * memory slot is read-only.  Making a written copy-on-write page
 * non-executable instead would need the host to resume the guest after its
 * write fault, which Glint never does (docs/security.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filemap.h"
#include "paging.h"
#include "sandbox_internal.h"

static glint_status check_mappable(glint_sandbox *sb) {
    if (sb->poisoned)
        return glint_sb_fail(sb, GLINT_E_POISONED,
                             "sandbox is poisoned; restore it before mapping");
    if (glint_sb_running(sb))
        return glint_sb_fail(sb, GLINT_E_STATE, "mappings cannot change during a call");
    if (sb->mappings.count == GLINT_MAX_FILE_MAPPINGS)
        return glint_sb_fail(sb, GLINT_E_MAPPING, "at most %u mappings per sandbox",
                             GLINT_MAX_FILE_MAPPINGS);
    return GLINT_OK;
}

static glint_status take_label(glint_sandbox *sb, const glint_mapping_options *opts,
                               const char *fallback, char out[GLINT_FILE_MAPPING_LABEL_SIZE]) {
    const char *label = opts != NULL && opts->label != NULL ? opts->label : fallback;
    size_t len;
    if (opts != NULL && opts->label != NULL && opts->label_len != 0) {
        len = opts->label_len;
        if (memchr(label, 0, len) != NULL)
            return glint_sb_fail(sb, GLINT_E_MAPPING, "mapping label contains a NUL byte");
    } else {
        len = strnlen(label, GLINT_FILE_MAPPING_LABEL_SIZE);
    }
    if (len == 0) return glint_sb_fail(sb, GLINT_E_MAPPING, "mapping label is empty");
    if (len >= GLINT_FILE_MAPPING_LABEL_SIZE)
        return glint_sb_fail(sb, GLINT_E_MAPPING, "mapping label longer than %u bytes",
                             GLINT_FILE_MAPPING_LABEL_SIZE - 1u);
    memset(out, 0, GLINT_FILE_MAPPING_LABEL_SIZE);
    memcpy(out, label, len);
    return GLINT_OK;
}

static glint_status check_range(glint_sandbox *sb, uint64_t gpa, uint64_t size) {
    const glint_layout_info *l = &sb->layout;
    if (gpa % GLINT_PAGE != 0)
        return glint_sb_fail(sb, GLINT_E_MAPPING,
                             "mapping address 0x%" PRIx64 " is not page aligned", gpa);
    if (size == 0 || gpa + size < gpa || gpa + size > GLINT_PHYS_TOP)
        return glint_sb_fail(sb, GLINT_E_MAPPING,
                             "mapping 0x%" PRIx64 "+0x%" PRIx64
                             " exceeds the guest-physical limit 0x%llx",
                             gpa, size, (unsigned long long)GLINT_PHYS_TOP);
    if (gpa < l->snapshot_gpa + l->snapshot_size)
        return glint_sb_fail(sb, GLINT_E_MAPPING,
                             "mapping at 0x%" PRIx64
                             " overlaps guest memory (snapshot region ends at 0x%" PRIx64 ")",
                             gpa, l->snapshot_gpa + l->snapshot_size);
    if (gpa + size > GLINT_WORLD_GPA(l->scratch_gpa))
        return glint_sb_fail(sb, GLINT_E_MAPPING,
                             "mapping 0x%" PRIx64 "+0x%" PRIx64
                             " overlaps the world page at 0x%" PRIx64
                             " or the scratch region after it",
                             gpa, size, GLINT_WORLD_GPA(l->scratch_gpa));
    for (uint32_t i = 0; i < sb->mappings.count; i++) {
        const glint_mapping *m = &sb->mappings.entries[i];
        if (gpa < m->gpa + m->size && m->gpa < gpa + size)
            return glint_sb_fail(sb, GLINT_E_MAPPING, "mapping overlaps mapping '%s' at 0x%" PRIx64,
                                 m->label, m->gpa);
    }
    return GLINT_OK;
}

static uint32_t free_slot(const glint_sandbox *sb) {
    for (uint32_t slot = GLINT_SLOT_FIRST_MAPPING;; slot++) {
        bool used = false;
        for (uint32_t i = 0; i < sb->mappings.count; i++)
            used |= sb->mappings.entries[i].slot == slot;
        if (!used) return slot;
    }
}

/* Page-table edits: a builder over the sandbox's tables and pool, recording
 * which table pages it wrote (host writes a snapshot must see). */
typedef struct pt_edit {
    glint_pt_builder b;
    uint64_t written[GLINT_PT_MAX_PAGES / 64u];
} pt_edit;

static void pt_edit_begin(glint_sandbox *sb, pt_edit *e) {
    const glint_layout_info *l = &sb->layout;
    glint_pt_resume(&e->b, glint_gmem_span(&sb->gmem, l->page_tables_gpa, l->page_tables_size),
                    l->page_tables_gpa, l->page_tables_size, &sb->pt_pool);
    memset(e->written, 0, sizeof e->written);
    e->b.written = e->written;
}

static void pt_edit_end(glint_sandbox *sb, pt_edit *e) {
    sb->pt_pool = e->b.pool;
    for (uint64_t w = 0; w < GLINT_PT_MAX_PAGES / 64u; w++) {
        for (uint64_t bits = e->written[w]; bits != 0; bits &= bits - 1u) {
            uint64_t page = w * 64u + (uint64_t)__builtin_ctzll(bits);
            glint_gmem_mark_written(&sb->gmem, sb->layout.page_tables_gpa + page * GLINT_PAGE,
                                    GLINT_PAGE);
        }
    }
}

/* Rewrites the guest's FileMappingInfo table and count from the host's list
 * (the authoritative copy: the guest may have scribbled on the PEB page). */
static void publish_table(glint_sandbox *sb) {
    const glint_layout_info *l = &sb->layout;
    uint8_t *page = glint_gmem_span_for_write(&sb->gmem, l->peb_gpa, GLINT_PAGE);
    glint_file_mapping_info table[GLINT_MAX_FILE_MAPPINGS];
    memset(table, 0, sizeof table);
    for (uint32_t i = 0; i < sb->mappings.count; i++) {
        table[i].guest_addr = sb->mappings.entries[i].gpa;
        table[i].size = sb->mappings.entries[i].size;
        memcpy(table[i].label, sb->mappings.entries[i].label, sizeof table[i].label);
    }
    memcpy(page + GLINT_FILE_MAPPINGS_OFFSET, table, sizeof table);
    glint_peb peb;
    memcpy(&peb, page, sizeof peb);
    peb.file_mappings.size = sb->mappings.count;
    peb.file_mappings.ptr = l->peb_gpa + GLINT_FILE_MAPPINGS_OFFSET;
    peb.mappings_generation++;
    memcpy(page, &peb, sizeof peb);
}

static void release_host_side(glint_mapping *m) {
    if (m->owns_host && m->host != NULL) munmap(m->host, m->size); /* teardown: not counted */
    if (m->fd >= 0) close(m->fd);
    m->host = NULL;
    m->fd = -1;
    m->owns_host = false;
}

/* What the guest may do with a mapping (W^X: executable means not
 * writable). */
static bool guest_writable(const glint_mapping *m) {
    return !(m->mode & GLINT_MAP_EXEC) && (m->mode & ~GLINT_MAP_EXEC) != GLINT_MAP_READ_ONLY;
}

static uint32_t guest_perms(const glint_mapping *m) {
    if (m->mode & GLINT_MAP_EXEC) return GLINT_PERM_READ | GLINT_PERM_EXEC;
    return GLINT_PERM_READ | (guest_writable(m) ? GLINT_PERM_WRITE : 0);
}

/* Maps m->fd (file mappings) into host memory. */
static glint_status map_file_view(glint_sandbox *sb, glint_mapping *m) {
    int prot = PROT_READ | (m->mode == GLINT_MAP_COPY_ON_WRITE ? PROT_WRITE : 0);
    void *p = glint_counted_mmap(&sb->counters, NULL, m->size, prot, MAP_PRIVATE | MAP_NORESERVE,
                                 m->fd, 0);
    if (p == MAP_FAILED)
        return glint_sb_fail(sb, GLINT_E_NO_MEMORY, "mmap of mapping '%s' failed: %s", m->label,
                             strerror(errno));
    m->host = p;
    m->owns_host = true;
    return GLINT_OK;
}

static glint_status add_slot(glint_sandbox *sb, glint_mapping *m) {
    glint_error err;
    m->slot = free_slot(sb);
    uint32_t flags = guest_writable(m) ? 0 : GLINT_HV_MAP_READONLY;
    if (sb->hv_ops->map(sb->hv, m->slot, m->gpa, m->size, m->host, flags, &err) != GLINT_OK) {
        sb->last_error = err;
        sb->last_error.code = GLINT_E_MAPPING;
        return GLINT_E_MAPPING;
    }
    return GLINT_OK;
}

static glint_status install(glint_sandbox *sb, glint_mapping *m) {
    glint_status st = add_slot(sb, m);
    if (st != GLINT_OK) return st;
    pt_edit e;
    pt_edit_begin(sb, &e);
    uint32_t perms = guest_perms(m);
    glint_error err;
    /* All or nothing: a failed map leaves no table behind (paging.h). */
    st = glint_pt_map_ex(&e.b, m->gpa, m->size, perms, true, &err);
    pt_edit_end(sb, &e);
    if (st != GLINT_OK) {
        sb->hv_ops->unmap(sb->hv, m->slot, NULL);
        return glint_sb_fail(sb, GLINT_E_MAPPING, "mapping '%s': %s", m->label, err.message);
    }
    sb->mappings.entries[sb->mappings.count++] = *m;
    publish_table(sb);
    GLINT_TRACE_MAP(sb, m->gpa, m->size, m->mode, m->label);
    return GLINT_OK;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

glint_status glint_sandbox_map_file(glint_sandbox *sb, uint64_t gpa, const char *path,
                                    const glint_mapping_options *opts) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (path == NULL) return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "path is NULL");
    glint_status st = check_mappable(sb);
    if (st != GLINT_OK) return st;
    glint_mapping m;
    memset(&m, 0, sizeof m);
    m.fd = -1;
    m.mode = opts != NULL && opts->mode != 0 ? opts->mode : GLINT_MAP_READ_ONLY;
    if (m.mode == GLINT_MAP_EXEC) m.mode |= GLINT_MAP_READ_ONLY;
    const uint32_t base = m.mode & ~GLINT_MAP_EXEC;
    if (base != GLINT_MAP_READ_ONLY && base != GLINT_MAP_COPY_ON_WRITE)
        return glint_sb_fail(sb, GLINT_E_MAPPING,
                             "file mappings are GLINT_MAP_READ_ONLY or GLINT_MAP_COPY_ON_WRITE, "
                             "optionally | GLINT_MAP_EXEC (mode 0x%x)",
                             m.mode);
    if ((st = take_label(sb, opts, base_name(path), m.label)) != GLINT_OK) return st;
    /* O_NONBLOCK: opening a FIFO must not block the caller. */
    m.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (m.fd < 0) {
        int e = errno;
        glint_sb_fail(sb, GLINT_E_IO, "cannot open %s: %s", path, strerror(e));
        sb->last_error.sys_errno = e;
        return GLINT_E_IO;
    }
    struct stat sbuf;
    if (fstat(m.fd, &sbuf) != 0 || !S_ISREG(sbuf.st_mode)) {
        st = glint_sb_fail(sb, GLINT_E_MAPPING, "%s is not a regular file", path);
        goto fail;
    }
    if (sbuf.st_size == 0) {
        st = glint_sb_fail(sb, GLINT_E_MAPPING, "%s is empty", path);
        goto fail;
    }
    if ((uint64_t)sbuf.st_size > GLINT_PHYS_TOP) {
        st = glint_sb_fail(sb, GLINT_E_MAPPING, "%s is larger than guest-physical memory", path);
        goto fail;
    }
    m.size = ((uint64_t)sbuf.st_size + GLINT_PAGE - 1u) & ~(GLINT_PAGE - 1u);
    if ((st = check_range(sb, gpa, m.size)) != GLINT_OK) goto fail;
    m.gpa = gpa;
    if ((st = map_file_view(sb, &m)) != GLINT_OK) goto fail;
    if ((st = install(sb, &m)) != GLINT_OK) goto fail;
    return GLINT_OK;
fail:
    release_host_side(&m);
    return st;
}

glint_status glint_sandbox_map_host_memory(glint_sandbox *sb, uint64_t gpa, void *host,
                                           uint64_t size, const glint_mapping_options *opts) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    glint_status st = check_mappable(sb);
    if (st != GLINT_OK) return st;
    if (host == NULL || (uintptr_t)host % GLINT_PAGE != 0 || size % GLINT_PAGE != 0)
        return glint_sb_fail(
            sb, GLINT_E_MAPPING,
            "host memory must be non-NULL, page aligned and a whole number of pages");
    glint_mapping m;
    memset(&m, 0, sizeof m);
    m.fd = -1;
    m.mode = opts != NULL && opts->mode != 0 ? opts->mode : GLINT_MAP_READ_ONLY;
    if (m.mode & GLINT_MAP_EXEC)
        return glint_sb_fail(sb, GLINT_E_MAPPING,
                             "host memory cannot be mapped executable (GLINT_MAP_EXEC is for file "
                             "mappings: embedder memory may change under the guest)");
    if (m.mode != GLINT_MAP_READ_ONLY && m.mode != GLINT_MAP_READ_WRITE)
        return glint_sb_fail(
            sb, GLINT_E_MAPPING,
            "host memory mappings are GLINT_MAP_READ_ONLY or GLINT_MAP_READ_WRITE");
    if ((st = take_label(sb, opts, "memory", m.label)) != GLINT_OK) return st;
    if ((st = check_range(sb, gpa, size)) != GLINT_OK) return st;
    m.gpa = gpa;
    m.size = size;
    m.host = host;
    return install(sb, &m);
}

glint_status glint_sandbox_unmap(glint_sandbox *sb, uint64_t gpa) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (glint_sb_running(sb))
        return glint_sb_fail(sb, GLINT_E_STATE, "mappings cannot change during a call");
    for (uint32_t i = 0; i < sb->mappings.count; i++) {
        glint_mapping *m = &sb->mappings.entries[i];
        if (m->gpa != gpa) continue;
        glint_error err;
        if (sb->hv_ops->unmap(sb->hv, m->slot, &err) != GLINT_OK) {
            sb->last_error = err;
            return glint_sb_poison(sb);
        }
        pt_edit e;
        pt_edit_begin(sb, &e);
        glint_pt_unmap(&e.b, m->gpa, m->size, NULL);
        pt_edit_end(sb, &e);
        GLINT_TRACE_UNMAP(sb, m->gpa, m->size);
        release_host_side(m);
        memmove(m, m + 1, (sb->mappings.count - i - 1u) * sizeof *m);
        sb->mappings.count--;
        publish_table(sb);
        return GLINT_OK;
    }
    return glint_sb_fail(sb, GLINT_E_NOT_FOUND, "no mapping starts at 0x%" PRIx64, gpa);
}

uint32_t glint_sandbox_mapping_count(const glint_sandbox *sb) {
    return sb != NULL ? sb->mappings.count : 0;
}

bool glint_sandbox_mapping(const glint_sandbox *sb, uint32_t index, glint_mapping_info *out) {
    if (sb == NULL || out == NULL || index >= sb->mappings.count) return false;
    const glint_mapping *m = &sb->mappings.entries[index];
    out->gpa = m->gpa;
    out->size = m->size;
    out->mode = m->mode;
    out->is_file = m->fd >= 0;
    out->label = m->label;
    return true;
}

void glint_filemap_release_all(glint_sandbox *sb) { glint_mapping_table_free(&sb->mappings); }

/* ---- Snapshots ------------------------------------------------------------ */

glint_status glint_mapping_table_copy(glint_mapping_table *dst, const glint_mapping_table *src) {
    dst->count = 0;
    for (uint32_t i = 0; i < src->count; i++) {
        glint_mapping m = src->entries[i];
        if (m.fd >= 0) {
            m.fd = fcntl(m.fd, F_DUPFD_CLOEXEC, 0);
            if (m.fd < 0) {
                glint_mapping_table_free(dst);
                return GLINT_E_NO_MEMORY;
            }
            m.host = NULL;
        }
        m.owns_host = false;
        dst->entries[dst->count++] = m;
    }
    return GLINT_OK;
}

void glint_mapping_table_free(glint_mapping_table *t) {
    for (uint32_t i = 0; i < t->count; i++) release_host_side(&t->entries[i]);
    t->count = 0;
}

static bool same_file(int a, int b) {
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static bool same_mapping(const glint_mapping *a, const glint_mapping *b) {
    if (a->gpa != b->gpa || a->size != b->size || a->mode != b->mode) return false;
    if ((a->fd >= 0) != (b->fd >= 0)) return false;
    return a->fd >= 0 ? same_file(a->fd, b->fd) : a->host == b->host;
}

glint_status glint_filemap_restore(glint_sandbox *sb, const glint_mapping_table *snap_table) {
    glint_mapping next[GLINT_MAX_FILE_MAPPINGS];
    bool kept[GLINT_MAX_FILE_MAPPINGS] = {false};
    uint32_t count = snap_table->count;
    /* Keep the mappings the snapshot also has; drop the others.  The page
     * tables and the PEB table came back with the snapshot's memory. */
    for (uint32_t i = 0; i < sb->mappings.count; i++) {
        glint_mapping *cur = &sb->mappings.entries[i];
        bool found = false;
        for (uint32_t j = 0; j < count && !found; j++) {
            if (kept[j] || !same_mapping(cur, &snap_table->entries[j])) continue;
            next[j] = *cur;
            next[j].slot = cur->slot;
            kept[j] = found = true;
            if (cur->mode == GLINT_MAP_COPY_ON_WRITE) {
                /* Drop the guest's private copies: back to the file. */
                glint_counted_madvise(&sb->counters, cur->host, cur->size, MADV_DONTNEED);
            }
        }
        if (!found) {
            sb->hv_ops->unmap(sb->hv, cur->slot, NULL);
            release_host_side(cur);
        }
    }
    /* Kept mappings first, so new slots never collide with theirs; then the
     * list is put back in the snapshot's order (the guest's table order). */
    uint32_t order[GLINT_MAX_FILE_MAPPINGS];
    sb->mappings.count = 0;
    for (uint32_t j = 0; j < count; j++) {
        if (!kept[j]) continue;
        order[sb->mappings.count] = j;
        sb->mappings.entries[sb->mappings.count++] = next[j];
    }
    for (uint32_t j = 0; j < count; j++) {
        if (kept[j]) continue;
        glint_mapping m = snap_table->entries[j];
        m.owns_host = false;
        if (m.fd >= 0) {
            m.fd = fcntl(m.fd, F_DUPFD_CLOEXEC, 0);
            if (m.fd < 0 || map_file_view(sb, &m) != GLINT_OK) {
                release_host_side(&m);
                return glint_sb_fail(sb, GLINT_E_MAPPING, "re-creating mapping '%s' failed",
                                     m.label);
            }
        }
        if (add_slot(sb, &m) != GLINT_OK) {
            release_host_side(&m);
            return GLINT_E_MAPPING;
        }
        order[sb->mappings.count] = j;
        sb->mappings.entries[sb->mappings.count++] = m;
    }
    for (uint32_t i = 1; i < sb->mappings.count; i++) {
        for (uint32_t k = i; k > 0 && order[k - 1] > order[k]; k--) {
            glint_mapping tm = sb->mappings.entries[k];
            sb->mappings.entries[k] = sb->mappings.entries[k - 1];
            sb->mappings.entries[k - 1] = tm;
            uint32_t to = order[k];
            order[k] = order[k - 1];
            order[k - 1] = to;
        }
    }
    return GLINT_OK;
}
