/*
 * elf_loader.c - guest ELF validation and loading.  The file is hostile: each
 * (offset, size) pair is checked with range_ok() before the bytes are touched,
 * and nothing is read through a pointer computed from unchecked fields.
 */
#include "elf_loader.h"

#include <elf.h>
#include <string.h>

#include "glint/abi.h"

#define PAGE_MASK ((uint64_t)GLINT_PAGE_SIZE - 1u)

/* [off, off+len) lies within [0, size) without overflow. */
static bool range_ok(uint64_t off, uint64_t len, uint64_t size) {
    return off <= size && len <= size - off;
}

static uint64_t page_up(uint64_t v) { return (v + PAGE_MASK) & ~PAGE_MASK; }

static glint_status check_header(const uint8_t *p, size_t size, Elf64_Ehdr *eh, glint_error *err) {
    if (size < sizeof *eh)
        return glint_fail(err, GLINT_E_ELF, "file too small for an ELF header (%zu bytes)", size);
    memcpy(eh, p, sizeof *eh);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return glint_fail(err, GLINT_E_ELF, "not an ELF file (bad magic)");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return glint_fail(err, GLINT_E_ELF, "not a 64-bit ELF file");
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return glint_fail(err, GLINT_E_ELF, "not a little-endian ELF file");
    if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
        return glint_fail(err, GLINT_E_ELF, "unsupported ELF version");
    if (eh->e_machine != EM_X86_64)
        return glint_fail(err, GLINT_E_ELF, "not an x86-64 ELF file (e_machine %u)", eh->e_machine);
    if (eh->e_type != ET_DYN)
        return glint_fail(err, GLINT_E_ELF, "guest must be a static PIE (ET_DYN), e_type is %u",
                          eh->e_type);
    if (eh->e_ehsize != sizeof(Elf64_Ehdr))
        return glint_fail(err, GLINT_E_ELF, "bad e_ehsize %u", eh->e_ehsize);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return glint_fail(err, GLINT_E_ELF, "bad e_phentsize %u", eh->e_phentsize);
    if (eh->e_phnum == 0 || eh->e_phnum > GLINT_ELF_MAX_PHDRS)
        return glint_fail(err, GLINT_E_ELF, "bad program header count %u", eh->e_phnum);
    if (!range_ok(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size))
        return glint_fail(err, GLINT_E_ELF, "program headers lie outside the file");
    return GLINT_OK;
}

static glint_status parse_note(const uint8_t *p, size_t size, const Elf64_Phdr *ph,
                               glint_elf_info *out, bool *found, glint_error *err) {
    if (!range_ok(ph->p_offset, ph->p_filesz, size))
        return glint_fail(err, GLINT_E_ELF, "PT_NOTE lies outside the file");
    uint64_t pos = ph->p_offset, end = ph->p_offset + ph->p_filesz;
    while (end - pos >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, p + pos, sizeof nh);
        pos += sizeof nh;
        uint64_t name_len = ((uint64_t)nh.n_namesz + 3u) & ~(uint64_t)3u;
        uint64_t desc_len = ((uint64_t)nh.n_descsz + 3u) & ~(uint64_t)3u;
        if (name_len > end - pos || desc_len > end - pos - name_len)
            return glint_fail(err, GLINT_E_ELF, "truncated ELF note");
        const uint8_t *name = p + pos;
        const uint8_t *desc = p + pos + name_len;
        if (nh.n_namesz == sizeof GLINT_NOTE_NAME &&
            memcmp(name, GLINT_NOTE_NAME, sizeof GLINT_NOTE_NAME) == 0 &&
            nh.n_type == GLINT_NOTE_TYPE_ABI) {
            struct glint_abi_note note;
            if (nh.n_descsz != sizeof note)
                return glint_fail(err, GLINT_E_ELF, "Glint ABI note has size %u, expected %zu",
                                  nh.n_descsz, sizeof note);
            if (*found) return glint_fail(err, GLINT_E_ELF, "duplicate Glint ABI note");
            memcpy(&note, desc, sizeof note);
            if (note.reserved != 0)
                return glint_fail(err, GLINT_E_ELF, "Glint ABI note has a nonzero reserved field");
            out->abi_version = note.abi_version;
            *found = true;
        }
        pos += name_len + desc_len;
    }
    return GLINT_OK;
}

/* Translates an image address range to a file offset through a PT_LOAD
 * whose file-backed bytes cover it. */
static bool vaddr_to_offset(const glint_elf_info *info, uint64_t vaddr, uint64_t len,
                            uint64_t *offset) {
    for (uint32_t i = 0; i < info->segment_count; i++) {
        const glint_elf_segment *s = &info->segments[i];
        if (vaddr >= s->vaddr && range_ok(vaddr - s->vaddr, len, s->filesz)) {
            *offset = s->offset + (vaddr - s->vaddr);
            return true;
        }
    }
    return false;
}

static glint_status parse_dynamic(const uint8_t *p, size_t size, const Elf64_Phdr *ph,
                                  glint_elf_info *out, glint_error *err) {
    if (!range_ok(ph->p_offset, ph->p_filesz, size))
        return glint_fail(err, GLINT_E_ELF, "PT_DYNAMIC lies outside the file");
    uint64_t rela = 0, relasz = 0, relaent = sizeof(Elf64_Rela);
    bool have_rela = false;
    uint64_t count = ph->p_filesz / sizeof(Elf64_Dyn);
    for (uint64_t i = 0; i < count; i++) {
        Elf64_Dyn d;
        memcpy(&d, p + ph->p_offset + i * sizeof d, sizeof d);
        switch (d.d_tag) {
        case DT_NULL: i = count; break;
        case DT_NEEDED:
            return glint_fail(err, GLINT_E_ELF, "guest needs shared libraries (DT_NEEDED)");
        case DT_RELA:
            rela = d.d_un.d_ptr;
            have_rela = true;
            break;
        case DT_RELASZ: relasz = d.d_un.d_val; break;
        case DT_RELAENT: relaent = d.d_un.d_val; break;
        case DT_REL:
        case DT_RELSZ:
            if (d.d_un.d_val != 0)
                return glint_fail(err, GLINT_E_ELF, "REL relocations are not supported");
            break;
        case DT_JMPREL:
        case DT_PLTRELSZ:
            if (d.d_un.d_val != 0)
                return glint_fail(err, GLINT_E_ELF, "PLT relocations are not supported");
            break;
#ifdef DT_RELR
        case DT_RELR:
        case DT_RELRSZ: return glint_fail(err, GLINT_E_ELF, "RELR relocations are not supported");
#endif
        default: break;
        }
    }
    if (!have_rela || relasz == 0) return GLINT_OK;
    if (relaent != sizeof(Elf64_Rela))
        return glint_fail(err, GLINT_E_ELF, "bad DT_RELAENT %llu", (unsigned long long)relaent);
    if (relasz % sizeof(Elf64_Rela) != 0)
        return glint_fail(err, GLINT_E_ELF, "DT_RELASZ is not a multiple of the entry size");
    uint64_t off;
    if (!vaddr_to_offset(out, rela, relasz, &off) || !range_ok(off, relasz, size))
        return glint_fail(err, GLINT_E_ELF, "relocation table lies outside loaded file data");
    out->rela_offset = off;
    out->rela_count = relasz / sizeof(Elf64_Rela);
    return GLINT_OK;
}

static glint_status add_load_segment(const Elf64_Phdr *ph, size_t size, glint_elf_info *out,
                                     glint_error *err) {
    if (out->segment_count == GLINT_ELF_MAX_SEGMENTS)
        return glint_fail(err, GLINT_E_ELF, "more than %u PT_LOAD segments",
                          GLINT_ELF_MAX_SEGMENTS);
    if (ph->p_filesz > ph->p_memsz)
        return glint_fail(err, GLINT_E_ELF, "PT_LOAD file size exceeds its memory size");
    if (!range_ok(ph->p_offset, ph->p_filesz, size))
        return glint_fail(err, GLINT_E_ELF, "PT_LOAD data lies outside the file");
    if (!range_ok(ph->p_vaddr, ph->p_memsz, GLINT_ELF_MAX_IMAGE_SIZE))
        return glint_fail(err, GLINT_E_ELF,
                          "PT_LOAD at 0x%llx size 0x%llx exceeds the %llu MiB image limit",
                          (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz,
                          (unsigned long long)(GLINT_ELF_MAX_IMAGE_SIZE >> 20));
    if (ph->p_align > 1 && (ph->p_align & (ph->p_align - 1)) != 0)
        return glint_fail(err, GLINT_E_ELF, "PT_LOAD alignment is not a power of two");
    if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
        return glint_fail(err, GLINT_E_ELF, "writable and executable segment refused (W^X)");
    for (uint32_t i = 0; i < out->segment_count; i++) {
        const glint_elf_segment *s = &out->segments[i];
        if (ph->p_vaddr < s->vaddr + s->memsz && s->vaddr < ph->p_vaddr + ph->p_memsz)
            return glint_fail(err, GLINT_E_ELF, "PT_LOAD segments overlap");
    }
    glint_elf_segment *s = &out->segments[out->segment_count++];
    s->vaddr = ph->p_vaddr;
    s->memsz = ph->p_memsz;
    s->offset = ph->p_offset;
    s->filesz = ph->p_filesz;
    s->perms = ((ph->p_flags & PF_R) ? GLINT_PERM_READ : 0) |
               ((ph->p_flags & PF_W) ? GLINT_PERM_WRITE : 0) |
               ((ph->p_flags & PF_X) ? GLINT_PERM_EXEC : 0);
    uint64_t end = page_up(ph->p_vaddr + ph->p_memsz);
    if (end > out->image_size) out->image_size = end;
    return GLINT_OK;
}

glint_status glint_elf_parse(const void *data, size_t size, glint_elf_info *out, glint_error *err) {
    const uint8_t *p = data;
    Elf64_Ehdr eh;
    glint_status st;
    if (data == NULL || out == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "NULL ELF buffer");
    memset(out, 0, sizeof *out);
    st = check_header(p, size, &eh, err);
    if (st != GLINT_OK) return st;

    /* Pass 1: loadable segments (PT_DYNAMIC translation needs them all). */
    for (uint32_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, p + eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
        switch (ph.p_type) {
        case PT_LOAD:
            if (ph.p_memsz == 0 && ph.p_filesz == 0) break;
            st = add_load_segment(&ph, size, out, err);
            if (st != GLINT_OK) return st;
            break;
        case PT_INTERP:
            return glint_fail(err, GLINT_E_ELF, "guest has an interpreter; link it as static PIE");
        case PT_TLS:
            return glint_fail(err, GLINT_E_ELF, "thread-local storage is not supported in guests");
        default: break;
        }
    }
    if (out->segment_count == 0) return glint_fail(err, GLINT_E_ELF, "no loadable segments");

    /* Pass 2: dynamic section and notes. */
    bool note_found = false;
    for (uint32_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, p + eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_DYNAMIC)
            st = parse_dynamic(p, size, &ph, out, err);
        else if (ph.p_type == PT_NOTE)
            st = parse_note(p, size, &ph, out, &note_found, err);
        else
            st = GLINT_OK;
        if (st != GLINT_OK) return st;
    }
    if (!note_found)
        return glint_fail(err, GLINT_E_ELF,
                          "missing Glint ABI note (.note.glint): not built with the Glint runtime");
    if (out->abi_version != GLINT_ABI_VERSION)
        return glint_fail(err, GLINT_E_ABI_MISMATCH, "guest ABI version %u, host expects %u",
                          out->abi_version, GLINT_ABI_VERSION);

    bool entry_ok = false;
    for (uint32_t i = 0; i < out->segment_count; i++) {
        const glint_elf_segment *s = &out->segments[i];
        if ((s->perms & GLINT_PERM_EXEC) && eh.e_entry >= s->vaddr &&
            eh.e_entry - s->vaddr < s->memsz)
            entry_ok = true;
    }
    if (!entry_ok)
        return glint_fail(err, GLINT_E_ELF, "entry point 0x%llx is not in an executable segment",
                          (unsigned long long)eh.e_entry);
    out->entry = eh.e_entry;

    /* Relocations are validated here so that load cannot fail on them. */
    for (uint64_t i = 0; i < out->rela_count; i++) {
        Elf64_Rela r;
        memcpy(&r, p + out->rela_offset + i * sizeof r, sizeof r);
        uint32_t type = (uint32_t)ELF64_R_TYPE(r.r_info);
        if (type == R_X86_64_NONE) continue;
        if (type != R_X86_64_RELATIVE)
            return glint_fail(err, GLINT_E_ELF,
                              "relocation %llu has type %u; only R_X86_64_RELATIVE is allowed",
                              (unsigned long long)i, type);
        if (ELF64_R_SYM(r.r_info) != 0)
            return glint_fail(err, GLINT_E_ELF,
                              "relocation %llu is R_X86_64_RELATIVE but names a symbol",
                              (unsigned long long)i);
        if (!range_ok(r.r_offset, 8, out->image_size))
            return glint_fail(err, GLINT_E_ELF, "relocation %llu targets 0x%llx outside the image",
                              (unsigned long long)i, (unsigned long long)r.r_offset);
        if (r.r_addend < 0 || (uint64_t)r.r_addend > out->image_size)
            return glint_fail(err, GLINT_E_ELF, "relocation %llu addend points outside the image",
                              (unsigned long long)i);
    }
    return GLINT_OK;
}

glint_status glint_elf_load(const glint_elf_info *info, const void *data, size_t size,
                            uint8_t *image, uint64_t image_size, uint64_t load_base,
                            glint_error *err) {
    const uint8_t *p = data;
    if (info->image_size > image_size)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "image buffer too small");
    for (uint32_t i = 0; i < info->segment_count; i++) {
        const glint_elf_segment *s = &info->segments[i];
        if (!range_ok(s->offset, s->filesz, size) || !range_ok(s->vaddr, s->memsz, image_size))
            return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "ELF info does not match the file");
        memcpy(image + s->vaddr, p + s->offset, s->filesz);
    }
    /* rela_count is bounded first so that the multiplication cannot wrap. */
    if (info->rela_count != 0 &&
        (info->rela_count > size / sizeof(Elf64_Rela) ||
         !range_ok(info->rela_offset, info->rela_count * sizeof(Elf64_Rela), size)))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "ELF info does not match the file");
    for (uint64_t i = 0; i < info->rela_count; i++) {
        Elf64_Rela r;
        memcpy(&r, p + info->rela_offset + i * sizeof r, sizeof r);
        if (ELF64_R_TYPE(r.r_info) != R_X86_64_RELATIVE) continue;
        uint64_t value = load_base + (uint64_t)r.r_addend;
        memcpy(image + r.r_offset, &value, sizeof value);
    }
    return GLINT_OK;
}

glint_status glint_elf_find_symtab(const void *data, size_t size, glint_elf_symtab *out,
                                   glint_error *err) {
    const uint8_t *p = data;
    Elf64_Ehdr eh;
    memset(out, 0, sizeof *out);
    glint_status st = check_header(p, size, &eh, err);
    if (st != GLINT_OK) return st;
    if (eh.e_shoff == 0 || eh.e_shnum == 0) return GLINT_OK; /* no section headers */
    if (eh.e_shentsize != sizeof(Elf64_Shdr))
        return glint_fail(err, GLINT_E_ELF, "bad e_shentsize %u", eh.e_shentsize);
    if (!range_ok(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), size))
        return glint_fail(err, GLINT_E_ELF, "section headers lie outside the file");
    for (uint32_t i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, p + eh.e_shoff + (uint64_t)i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_SYMTAB) continue;
        if (sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_size % sizeof(Elf64_Sym) != 0 ||
            !range_ok(sh.sh_offset, sh.sh_size, size))
            return glint_fail(err, GLINT_E_ELF, "malformed .symtab (section %u)", i);
        if (sh.sh_link == 0 || sh.sh_link >= eh.e_shnum)
            return glint_fail(err, GLINT_E_ELF, ".symtab links to section %u of %u", sh.sh_link,
                              eh.e_shnum);
        Elf64_Shdr str;
        memcpy(&str, p + eh.e_shoff + (uint64_t)sh.sh_link * sizeof str, sizeof str);
        if (str.sh_type != SHT_STRTAB || !range_ok(str.sh_offset, str.sh_size, size))
            return glint_fail(err, GLINT_E_ELF, "malformed string table of .symtab");
        out->sym_offset = sh.sh_offset;
        out->count = sh.sh_size / sizeof(Elf64_Sym);
        out->str_offset = str.sh_offset;
        out->str_size = str.sh_size;
        return GLINT_OK;
    }
    return GLINT_OK;
}
