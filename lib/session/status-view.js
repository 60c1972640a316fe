'use strict'
// The `status` report: the legacy lines, then each week's progress (a bar on a TTY), the
// session lock and the last backup, one line each. `statusOf` builds the data (also the
// `--json` output); `printStatus` prints it.

const { currentWeek, componentsOf, objectKeys } = require('./locate')

const BAR_WIDTH = 20
const ICONS = { completed: '✅', in_progress: '🔄' }

function weekProgress(phase) {
  return objectKeys(phase.weeks).map((key) => {
    const week = phase.weeks[key] || {}
    const components = componentsOf(week)
    return {
      key,
      title: week.title,
      status: week.status,
      completed: components.filter((c) => c.status === 'completed').length,
      total: components.length,
    }
  })
}

/** The newest restore point (legacy keeps it first; a hand-edited list may not). */
function lastBackup(tracker) {
  const points = tracker.backupStrategy && Array.isArray(tracker.backupStrategy.restorePoints) ? tracker.backupStrategy.restorePoints : []
  const valid = points.filter((p) => p && typeof p.id === 'string')
  if (!valid.length) return null
  const newest = valid.reduce((a, b) => (String(b.timestamp) > String(a.timestamp) ? b : a))
  return { id: newest.id, timestamp: newest.timestamp }
}

/** Everything `status` shows, as data. `lock` is a getLockInfo result. */
function statusOf(tracker, { lockIdentifier, lock }) {
  const { phaseNum, weekNum, phase, week } = currentWeek(tracker)
  return {
    phase: { number: phaseNum, title: phase.title, status: phase.status },
    week: { number: weekNum, title: week.title, status: week.status },
    lastUpdate: tracker.sessionInfo.lastUpdate,
    components: componentsOf(week).map((c) => ({ name: c.name, status: c.status })),
    weeks: weekProgress(phase),
    baseline: tracker.baselineStatus ? tracker.baselineStatus.testsPassingBaseline : undefined,
    lock: { identifier: lockIdentifier, ...lock },
    lastBackup: lastBackup(tracker),
  }
}

function bar(done, total) {
  const filled = total ? Math.round((done / total) * BAR_WIDTH) : 0
  return `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}]`
}

function lockLine(lock) {
  if (!lock.locked) return `🔒 Session lock (${lock.identifier}): AVAILABLE`
  if (lock.corrupted) return `🔒 Session lock (${lock.identifier}): CORRUPTED (${lock.error})`
  const age = Math.round((lock.age || 0) / 1000)
  return `🔒 Session lock (${lock.identifier}): ${lock.stale ? 'STALE' : 'LOCKED'} by PID ${lock.pid}, ${age}s old`
}

function printStatus(status, { tty = Boolean(process.stdout.isTTY) } = {}) {
  console.log('📊 CURRENT STATUS')
  console.log('═════════════════')
  console.log(`Phase: ${status.phase.number} (${status.phase.title})`)
  console.log(`Week: ${status.week.number} (${status.week.title})`)
  console.log(`Status: ${status.phase.status}`)
  console.log(`Last Update: ${status.lastUpdate}`)
  if (status.components.length) {
    console.log('\n📋 Components:')
    for (const c of status.components) console.log(`  ${ICONS[c.status] || '⏳'} ${c.name}`)
  }
  console.log(`\n🧪 Baseline: ${status.baseline}`) // the last of the legacy lines; ours follow
  if (status.weeks.length) {
    console.log('\n📅 Weeks:')
    for (const w of status.weeks) {
      const progress = tty ? `${bar(w.completed, w.total)} ${w.completed}/${w.total}` : `${w.completed}/${w.total} completed`
      console.log(`  ${w.key} ${progress}  ${w.title || ''}`.trimEnd())
    }
    console.log('')
  }
  console.log(lockLine(status.lock))
  console.log(status.lastBackup ? `💾 Last backup: ${status.lastBackup.id} (${status.lastBackup.timestamp})` : '💾 Last backup: none')
}

module.exports = { statusOf, printStatus, weekProgress, lastBackup, bar }
