'use strict'
// Finding the current phase, week and component of a tracker. A missing phase, week or
// component is a coded error whose message lists what does exist (the legacy code threw a
// TypeError on a missing phase or week, and listed nothing).

const { codedError } = require('../js/errors')

function listOf(names) {
  return names.length ? names.join(', ') : 'none'
}

function objectKeys(value) {
  return value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : []
}

/** `tracker.phases.phase<n>`, or ENOPHASE naming the phases that exist. */
function findPhase(tracker, phaseNum) {
  const phases = tracker && tracker.phases
  const phase = objectKeys(phases).includes(`phase${phaseNum}`) ? phases[`phase${phaseNum}`] : null
  if (!phase || typeof phase !== 'object') {
    throw codedError('ENOPHASE', `Phase ${phaseNum} not found in tracker (phases: ${listOf(objectKeys(phases))})`)
  }
  return phase
}

/** `phase<p>.weeks.week<w>`, or ENOWEEK naming the weeks of that phase. */
function findWeek(tracker, phaseNum, weekNum) {
  const phase = findPhase(tracker, phaseNum)
  const week = objectKeys(phase.weeks).includes(`week${weekNum}`) ? phase.weeks[`week${weekNum}`] : null
  if (!week || typeof week !== 'object') {
    throw codedError(
      'ENOWEEK',
      `Week ${weekNum} not found in phase ${phaseNum} (weeks: ${listOf(objectKeys(phase.weeks))})`,
    )
  }
  return week
}

/** The session's current phase and week: `{ phaseNum, weekNum, phase, week }`. */
function currentWeek(tracker) {
  const info = (tracker && tracker.sessionInfo) || {}
  if (info.currentPhase === undefined || info.currentPhase === null) {
    throw codedError('ENOPHASE', 'Current phase not set in sessionInfo.currentPhase')
  }
  const phaseNum = info.currentPhase
  const phase = findPhase(tracker, phaseNum)
  if (phase.currentWeek === undefined || phase.currentWeek === null) {
    throw codedError('ENOWEEK', `Current week not set for phase ${phaseNum} (weeks: ${listOf(objectKeys(phase.weeks))})`)
  }
  const weekNum = phase.currentWeek
  return { phaseNum, weekNum, phase, week: findWeek(tracker, phaseNum, weekNum) }
}

function componentsOf(week) {
  return Array.isArray(week && week.components) ? week.components.filter((c) => c && typeof c === 'object') : []
}

/**
 * The named component of the current week: `{ phaseNum, weekNum, phase, week, component }`,
 * or ENOCOMPONENT with `available: [{ name, status }]` (the legacy message text is kept).
 */
function findComponent(tracker, name) {
  const where = currentWeek(tracker)
  const components = componentsOf(where.week)
  const component = components.find((c) => c.name === name)
  if (!component) {
    const err = codedError('ENOCOMPONENT', `Component ${name} not found in current week`)
    err.available = components.map((c) => ({ name: c.name, status: c.status }))
    err.where = `phase ${where.phaseNum}, week ${where.weekNum}`
    throw err
  }
  return { ...where, component }
}

module.exports = { findPhase, findWeek, currentWeek, findComponent, componentsOf, objectKeys }
