'use strict'
// cargo-fuzz (libFuzzer, nightly) on the parsers that read untrusted files: the tolerant
// tracker parser, the tracker validator and the backup manifest reader (fuzz/fuzz_targets/).
// Each target runs for a fixed time from the committed seeds (fuzz/seeds/<target>) plus the
// corpus earlier runs grew (fuzz/corpus/<target>, not committed). A crash fails the section
// and leaves its input in fuzz/artifacts/<target>/: it becomes a regression test in core.
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, table, run } = require('../lib')

const SECONDS = Number(process.env.TORTURE_FUZZ_SECONDS || 60)
const TARGETS = ['tolerant_json', 'tracker_validator', 'manifest_paths']
const FUZZ = path.join(ROOT, 'fuzz')

function lastMatch(text, re) {
  let m
  let last = null
  const g = new RegExp(re.source, 'g')
  while ((m = g.exec(text))) last = m
  return last
}

module.exports = {
  title: 'Fuzzing (cargo-fuzz)',
  async run() {
    if (run('cargo', ['+nightly', 'fuzz', '--version']).status !== 0) {
      return { ok: false, text: 'cargo-fuzz is not installed (`cargo install cargo-fuzz`); nothing was fuzzed.' }
    }
    const build = run('cargo', ['+nightly', 'fuzz', 'build', '-O'], { cwd: FUZZ })
    if (build.status !== 0) return { ok: false, text: `\`cargo +nightly fuzz build -O\` failed:\n\n\`\`\`\n${build.stderr.slice(-3000)}\n\`\`\`` }
    const rows = []
    const crashes = []
    for (const target of TARGETS) {
      const corpus = path.join(FUZZ, 'corpus', target)
      fs.mkdirSync(corpus, { recursive: true })
      const r = run(
        'cargo',
        ['+nightly', 'fuzz', 'run', '-O', target, corpus, path.join(FUZZ, 'seeds', target), '--', `-max_total_time=${SECONDS}`, '-rss_limit_mb=2048', '-max_len=65536', '-print_final_stats=1'],
        { cwd: FUZZ },
      )
      const out = r.stderr
      const runs = lastMatch(out, /stat::number_of_executed_units:\s*(\d+)/)
      const done = lastMatch(out, /#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/)
      const crashed = r.status !== 0
      if (crashed) {
        const artifact = lastMatch(out, /Test unit written to (\S+)/)
        crashes.push(`${target}: exit ${r.status}${artifact ? `, input in \`${path.relative(ROOT, path.resolve(FUZZ, artifact[1]))}\`` : ''}\n\n\`\`\`\n${out.split('\n').filter((l) => /panicked|ERROR|SUMMARY|assert/.test(l)).slice(0, 8).join('\n')}\n\`\`\``)
      }
      rows.push([
        target,
        `${SECONDS} s`,
        runs ? Number(runs[1]).toLocaleString('en') : done ? Number(done[1]).toLocaleString('en') : '?',
        done ? done[2] : '?',
        done ? done[4] : fs.readdirSync(corpus).length,
        crashed ? '**crash**' : 'none',
      ])
    }
    const text =
      `Each target runs ${SECONDS} s (\`cargo +nightly fuzz run -O <target> -- -max_total_time=${SECONDS}\`, AddressSanitizer on, ` +
      'inputs up to 64 KiB) from the committed seeds (the real tracker and backup metadata, a JSONC sample, a hostile manifest) ' +
      'and the corpus of earlier runs. `tolerant_json`: any text through the tolerant parser and the strict-then-tolerant entry ' +
      'point (what the tolerant parser accepts, the entry point accepts; strict JSON parses the same both ways). ' +
      '`tracker_validator`: any parsed tracker validated without and with repairs, as component and as restore point ' +
      '(validate-only changes nothing). `manifest_paths`: any manifest JSON; an accepted path has no `..` or root component, ' +
      'never resolves outside the root, and verifying over an empty root finds every path missing.\n\n' +
      table(['target', 'time', 'executions', 'coverage (edges)', 'corpus', 'crashes'], rows) +
      (crashes.length ? `\n\nCrashes:\n\n${crashes.map((c) => `- ${c}`).join('\n')}` : '')
    return { ok: crashes.length === 0, text }
  },
}
