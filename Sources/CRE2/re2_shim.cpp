#include "CRE2.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <vector>

struct sx_re2 {
    RE2 re;
    sx_re2(re2::StringPiece pattern, const RE2::Options &options) : re(pattern, options) {}
};

static void copy_error(const std::string &message, char *error, size_t capacity) {
    if (error == nullptr || capacity == 0) return;
    size_t n = std::min(message.size(), capacity - 1);
    std::memcpy(error, message.data(), n);
    error[n] = 0;
}

extern "C" sx_re2 *sx_re2_compile(const char *pattern, size_t len, int64_t max_mem, char *error, size_t error_capacity) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(false);
    if (max_mem > 0) options.set_max_mem(max_mem);
    sx_re2 *re = new (std::nothrow) sx_re2(re2::StringPiece(pattern, len), options);
    if (re == nullptr) {
        copy_error("out of memory", error, error_capacity);
        return nullptr;
    }
    if (!re->re.ok()) {
        copy_error(re->re.error(), error, error_capacity);
        delete re;
        return nullptr;
    }
    return re;
}

extern "C" void sx_re2_free(sx_re2 *re) { delete re; }

extern "C" int sx_re2_full_match(const sx_re2 *re, const char *text, size_t len) {
    re2::StringPiece piece(text, len);
    return re->re.Match(piece, 0, len, RE2::ANCHOR_BOTH, nullptr, 0) ? 1 : 0;
}

extern "C" int sx_re2_group_count(const sx_re2 *re) { return re->re.NumberOfCapturingGroups(); }

extern "C" int sx_re2_group_index(const sx_re2 *re, const char *name, size_t len) {
    const std::map<std::string, int> &names = re->re.NamedCapturingGroups();
    auto it = names.find(std::string(name, len));
    return it == names.end() ? -1 : it->second;
}

static int match_groups(const sx_re2 *re, const char *text, size_t len, size_t start, RE2::Anchor anchor,
                        int64_t *offsets, int groups) {
    if (groups < 0 || groups > re->re.NumberOfCapturingGroups() || start > len) return 0;
    re2::StringPiece piece(text, len);
    std::vector<re2::StringPiece> sub(static_cast<size_t>(groups) + 1);
    if (!re->re.Match(piece, start, len, anchor, sub.data(), groups + 1)) return 0;
    for (int i = 0; i <= groups; i++) {
        if (sub[i].data() == nullptr) {
            offsets[2 * i] = -1;
            offsets[2 * i + 1] = -1;
        } else {
            offsets[2 * i] = sub[i].data() - text;
            offsets[2 * i + 1] = offsets[2 * i] + static_cast<int64_t>(sub[i].size());
        }
    }
    return 1;
}

extern "C" int sx_re2_full_match_groups(const sx_re2 *re, const char *text, size_t len, int64_t *offsets, int groups) {
    return match_groups(re, text, len, 0, RE2::ANCHOR_BOTH, offsets, groups);
}

extern "C" int sx_re2_find_groups(const sx_re2 *re, const char *text, size_t len, size_t start, int64_t *offsets, int groups) {
    return match_groups(re, text, len, start, RE2::UNANCHORED, offsets, groups);
}
