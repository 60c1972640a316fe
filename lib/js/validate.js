'use strict'
// The in-memory validation walk (both backends use it): the tracker / component / backup
// schemas of `validation-helpers.js`, driven by the table in validation-schema.json that the
// Rust core (core/src/validate/) reads too, so the two cannot drift. "Present" means neither
// undefined nor null; `autoRepair = false` never mutates; arrays are not objects. (What
// differs from legacy, and why, is in COMPATIBILITY.md.)

const SCHEMA = require('./validation-schema.json')

const M = SCHEMA.messages

/** `{prop}`-style placeholders of a message template filled from `values`. */
function message(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole))
}

/** The values every default made in one validation shares. */
function clock(ms = Date.now()) {
  const now = new Date(ms).toISOString()
  return { ms: String(ms), now, today: now.slice(0, 10) }
}

/** A fresh copy of a table value with its `${...}` placeholders filled. */
function expand(value, c) {
  if (typeof value === 'string') {
    const template = /^\$\{(default\w+)\}$/.exec(value)
    if (template) return expand(SCHEMA.templates[template[1]], c)
    return value.replace(/\$\{(ms|now|today)\}/g, (_, name) => c[name])
  }
  if (Array.isArray(value)) return value.map((v) => expand(v, c))
  if (value !== null && typeof value === 'object') {
    const out = {}
    for (const [k, v] of Object.entries(value)) out[k] = expand(v, c)
    return out
  }
  return value
}

/** The default of `prop` in `defaults`, or null for a property the table has none for. */
function defaultOf(defaults, prop, c) {
  return Object.prototype.hasOwnProperty.call(defaults, prop) ? expand(defaults[prop], c) : null
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
// Present: neither undefined nor null, and a value JSON can hold (a function, symbol or
// bigint counts as absent, as in JSON.stringify; the native backend agrees).
const NO_JSON_FORM = new Set(['function', 'symbol', 'bigint'])
const isPresent = (v) => v !== undefined && v !== null && !NO_JSON_FORM.has(typeof v)

function typeMatches(value, expected) {
  if (Array.isArray(expected)) return expected.includes(value)
  switch (expected) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === expected
    case 'array':
      return Array.isArray(value)
    case 'object':
      return isObject(value)
    default:
      // the schema (validation-schema.json) names no other type: a new one needs its check here
      throw new Error(`validation-schema.json names an unknown type ${JSON.stringify(expected)}`)
  }
}

/** A result to fill; `valid` is set by finish(), and comes first only to keep the legacy key order. */
function newResult(data) {
  return { valid: null, errors: [], warnings: [], repaired: false, data }
}

function finish(result) {
  result.valid = result.errors.length === 0
  return result
}

/**
 * Required properties and types of one object against a table entry. `say` names the
 * messages: { missing, repaired, type, typeRepaired } keys of the message table.
 */
function checkProperties(obj, table, defaults, say, values, repair, c, result) {
  for (const prop of table.required) {
    if (isPresent(obj[prop])) continue
    result.errors.push(message(M[say.missing], { ...values, prop }))
    if (repair) {
      obj[prop] = defaultOf(defaults, prop, c)
      result.repaired = true
      result.warnings.push(message(M[say.repaired], { ...values, prop }))
    }
  }
  for (const [prop, expected] of Object.entries(table.types || {})) {
    const value = obj[prop]
    if (!isPresent(value) || typeMatches(value, expected)) continue
    result.errors.push(message(M[say.type], { ...values, prop }))
    if (repair) {
      obj[prop] = defaultOf(defaults, prop, c)
      result.repaired = true
      result.warnings.push(message(M[say.typeRepaired], { ...values, prop }))
    }
  }
}

const SECTION = { missing: 'sectionRequired', repaired: 'sectionRepaired', type: 'sectionType', typeRepaired: 'sectionTypeRepaired' }
const PHASE = { missing: 'phaseMissing', repaired: 'phasePropRepaired' }
const WEEK = { missing: 'weekMissing', repaired: 'weekPropRepaired' }
const COMPONENT = { missing: 'componentMissing', repaired: 'componentRepaired', type: 'componentType', typeRepaired: 'componentTypeRepaired' }
const BACKUP = { missing: 'backupMissing', repaired: 'backupRepaired', type: 'backupType', typeRepaired: 'backupTypeRepaired' }

function validateComponentWith(component, context, repair, c) {
  const result = newResult(component)
  if (!isObject(component)) {
    result.errors.push(message(M.componentNotObject, { ctx: context }))
    if (repair) {
      result.data = expand(SCHEMA.templates.defaultComponent, c)
      result.repaired = true
      result.warnings.push(message(M.componentDefault, { ctx: context }))
    }
    return finish(result)
  }
  const table = SCHEMA.component
  checkProperties(component, table, table.defaults, COMPONENT, { ctx: context }, repair, c, result)
  return finish(result)
}

function validateComponents(week, context, repair, c, result) {
  if (!Array.isArray(week.components)) {
    result.errors.push(message(M.componentsNotArray, { ctx: context }))
    if (!repair || !isObject(week.components)) return
    week.components = Object.values(week.components)
    result.repaired = true
    result.warnings.push(message(M.componentsConverted, { ctx: context }))
  }
  const components = week.components
  for (let i = 0; i < components.length; i++) {
    const r = validateComponentWith(components[i], `${context}.components[${i}]`, repair, c)
    result.errors.push(...r.errors)
    result.warnings.push(...r.warnings)
    if (r.repaired) {
      components[i] = r.data
      result.repaired = true
    }
  }
}

function validateWeeks(weeks, phase, repair, c, result) {
  for (const [week, value] of Object.entries(weeks)) {
    if (!isObject(value)) {
      result.errors.push(message(M.weekInvalid, { phase, week }))
      if (repair) {
        weeks[week] = expand(SCHEMA.templates.defaultWeek, c)
        result.repaired = true
        result.warnings.push(message(M.weekRepaired, { phase, week }))
      }
      continue
    }
    checkProperties(value, SCHEMA.week, SCHEMA.week.defaults, WEEK, { phase, week }, repair, c, result)
    if (isPresent(value.components)) validateComponents(value, `${phase}.${week}`, repair, c, result)
  }
}

function validatePhases(phases, repair, c, result) {
  for (const [phase, value] of Object.entries(phases)) {
    if (!isObject(value)) {
      result.errors.push(message(M.phaseInvalid, { phase }))
      if (repair) {
        phases[phase] = expand(SCHEMA.templates.defaultPhase, c)
        result.repaired = true
        result.warnings.push(message(M.phaseRepaired, { phase }))
      }
      continue
    }
    checkProperties(value, SCHEMA.phase, SCHEMA.phase.defaults, PHASE, { phase }, repair, c, result)
    if (!isPresent(value.weeks)) continue
    if (isObject(value.weeks)) validateWeeks(value.weeks, phase, repair, c, result)
    else result.errors.push(message(M.weeksNotObject, { phase }))
  }
}

function validateTrackerWith(tracker, repair, c) {
  const result = newResult(tracker)
  if (!isObject(tracker)) {
    result.errors.push(M.trackerNotObject)
    if (repair) {
      result.data = expand(SCHEMA.templates.defaultTracker, c)
      result.repaired = true
      result.warnings.push(M.createdDefaultTracker)
    }
    return finish(result)
  }
  const table = SCHEMA.tracker
  for (const prop of table.required) {
    if (isPresent(tracker[prop])) continue
    result.errors.push(message(M.missingProperty, { prop }))
    if (repair) {
      tracker[prop] = defaultOf(table.defaults, prop, c)
      result.repaired = true
      result.warnings.push(message(M.repairedMissingProperty, { prop }))
    }
  }
  for (const section of table.sections) {
    const value = tracker[section]
    if (!isPresent(value)) continue
    if (!isObject(value)) {
      // Kept as it is: a wrong-typed section may still hold the user's data.
      result.errors.push(message(M.sectionInvalidType, { prop: section }))
      continue
    }
    checkProperties(value, table[section], table.defaults, SECTION, { ctx: section }, repair, c, result)
  }
  if (isPresent(tracker.phases)) {
    if (isObject(tracker.phases)) validatePhases(tracker.phases, repair, c, result)
    else result.errors.push(M.phasesNotObject)
  }
  if (repair && result.repaired && isObject(tracker.sessionInfo)) tracker.sessionInfo.lastUpdate = c.now
  return finish(result)
}

// The legacy defaults (repair unless told not to, the context 'component') are applied once,
// by the drop-in (lib/validation-helpers.js), the only caller: here `repair` is a boolean and
// `context` a string.
function validateTrackerSchema(tracker, repair) {
  return validateTrackerWith(tracker, repair, clock())
}

function validateComponent(component, context, repair) {
  return validateComponentWith(component, context, repair, clock())
}

function validateBackup(backup, repair) {
  const result = newResult(backup)
  if (!isObject(backup)) {
    result.errors.push(M.backupNotObject)
    return finish(result)
  }
  const table = SCHEMA.backup
  checkProperties(backup, table, table.defaults, BACKUP, {}, repair, clock(), result)
  return finish(result)
}

function createDefaultTracker() {
  return expand(SCHEMA.templates.defaultTracker, clock())
}

module.exports = {
  validateTrackerSchema,
  validateComponent,
  validateBackup,
  createDefaultTracker,
  // for the file-level repair (lib/js/repair.js)
  validateTrackerWith,
  clock,
  expand,
  message,
  isObject,
  SCHEMA,
}
