'use strict'
// Mutants of lib/js that scripts/mutants-js.js leaves out (what .cargo/mutants.toml's
// exclude_re is for the core): each with its reason, and only equivalent mutants or code that
// cannot run on this platform. A pattern names the line and column: when the code there
// changes, the mutant shows up again (as missed) instead of staying hidden.

module.exports = [
  // Equivalent in outcome, lock waits (as in the core's wait_turn): these change only when a
  // waiter judges its holder again, or gives up at the deadline to the sub-millisecond, or
  // sleeps past it by one poll step (the first judgement is due at 0, long past;
  // performance.now() equal to a deadline is chance), never who gets the lock. A test must
  // not assert timings; the bench measures them.
  [/^lib\/js\/lock\/acquire\.js:(79:13: replace >= with >|88:\d+: replace|90:13: replace >= with >|91:36: replace - with \+)/, 'timing only (waitTurn)'],
]
