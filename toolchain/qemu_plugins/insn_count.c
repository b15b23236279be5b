/*
 * qemu TCG plugin: exact dynamic instruction counts of an emulated program, in total and inside
 * marked regions. A region starts at `hint #0x70` and ends at `hint #0x71` (aarch64 hint
 * instructions without an architectural meaning: no-ops on real CPUs, so instrumented kernels
 * run unchanged on boards). The markers themselves are not counted.
 *
 *   qemu-aarch64 -plugin libinsn_count.so,outfile=counts.txt PROGRAM
 *
 * writes one line "total=<n> region=<n> regions=<n>", where region sums every completed region
 * and regions says how many there were. Without outfile the line goes to qemu's log
 * (-d plugin). Counts are exact for a single-threaded guest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* HINT #imm is 0xd503201f with imm in bits 5..11. */
#define HINT_ENCODING(imm) (0xd503201fu | ((uint32_t)(imm) << 5))
static const uint32_t kRegionStart = HINT_ENCODING(0x70);
static const uint32_t kRegionStop = HINT_ENCODING(0x71);

static uint64_t total_insns;
static uint64_t region_insns;
static uint64_t region_count;
static uint64_t region_started_at;
static int in_region;
static char *outfile;

static void on_region_start(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  (void)userdata;
  region_started_at = total_insns;
  in_region = 1;
}

static void on_region_stop(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  (void)userdata;
  if (!in_region) return; /* a stop without a start is ignored */
  region_insns += total_insns - region_started_at;
  ++region_count;
  in_region = 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint32_t word = 0;
    if (qemu_plugin_insn_size(insn) == sizeof(word)) {
      memcpy(&word, qemu_plugin_insn_data(insn), sizeof(word));
    }
    if (word == kRegionStart) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_region_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
    } else if (word == kRegionStop) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_region_stop, QEMU_PLUGIN_CB_NO_REGS, NULL);
    } else {
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &total_insns,
                                                 1);
    }
  }
}

static void report_counts(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  char line[160];
  snprintf(line, sizeof(line), "total=%" PRIu64 " region=%" PRIu64 " regions=%" PRIu64 "\n",
           total_insns, region_insns, region_count);
  if (outfile != NULL) {
    FILE *f = fopen(outfile, "w");
    if (f != NULL) {
      fputs(line, f);
      fclose(f);
    } else {
      fprintf(stderr, "insn_count: cannot write %s\n", outfile);
    }
  } else {
    qemu_plugin_outs(line);
  }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  if (info->system_emulation) {
    fprintf(stderr, "insn_count: user-mode emulation only\n");
    return -1;
  }
  for (int i = 0; i < argc; ++i) {
    if (strncmp(argv[i], "outfile=", 8) == 0) {
      outfile = strdup(argv[i] + 8);
    } else {
      fprintf(stderr, "insn_count: unknown argument '%s' (expected outfile=PATH)\n", argv[i]);
      return -1;
    }
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, report_counts, NULL);
  return 0;
}
