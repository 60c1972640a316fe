'use strict'
// The legacy ValidationHelpers' smaller public methods (scripts call them, subclasses
// override them), mixed into lib/validation-helpers.js's class. Each does the sound thing
// under its legacy name (COMPATIBILITY.md): the structure checks run through the backend's
// own validator (so both backends give the same messages and repairs), defaults come from
// the one schema table (lib/js/validation-schema.json) and keep `0` and `false`, and
// `fixCommonJsonIssues` parses with the tolerant parser instead of rewriting strings.

const { SCHEMA, clock, expand, isObject } = require('./js/validate')
const { parseTolerant } = require('./js/parse')

const TEMPLATES = SCHEMA.templates
// Stand-ins that pass the schema, so that only the part a method names is reported.
const VALID_INFO = { sessionId: 's', currentPhase: 1, currentWeek: 1, lastUpdate: 's' }
const VALID_BASELINE = { phase1Complete: true, testsPassingBaseline: '0/0', agentsLoaded: 0 }

const own = (table, prop) => Object.prototype.hasOwnProperty.call(table, prop)
/** The table's default for `prop`, or null: `0`, `false` and `[]` stay what they are. */
const defaultIn = (table, prop) => (typeof prop === 'string' && own(table, prop) ? expand(table[prop], clock()) : null)

/** `{ errors, warnings, repaired, valid, data }` of a tracker validation, for one part of it. */
function part(result, data) {
  return { valid: result.errors.length === 0, errors: result.errors, warnings: result.warnings, repaired: result.repaired, data }
}

class ValidationStructure {
  /** The schema table (legacy shape: `{ tracker, component, backup }`, plus `phase`, `week`). */
  loadSchemas() {
    return structuredClone({ tracker: SCHEMA.tracker, phase: SCHEMA.phase, week: SCHEMA.week, component: SCHEMA.component, backup: SCHEMA.backup })
  }

  /** The phases of a tracker, checked (and repaired in place) as `validateTrackerSchema` does. */
  validatePhasesStructure(phases, autoRepair = true) {
    const result = this.validateTrackerSchema({ sessionInfo: { ...VALID_INFO }, baselineStatus: { ...VALID_BASELINE }, phases }, autoRepair)
    return part(result, phases)
  }

  /** The weeks of phase `phaseKey`, checked (and repaired in place). */
  validateWeeksStructure(weeks, phaseKey, autoRepair = true) {
    const phase = { status: 'planned', title: 't', weeks }
    const key = String(phaseKey)
    const result = this.validateTrackerSchema({ sessionInfo: { ...VALID_INFO }, baselineStatus: { ...VALID_BASELINE }, phases: { [key]: phase } }, autoRepair)
    return part(result, phase.weeks)
  }

  /**
   * The components of `context` (e.g. `phase2.week1`): an object of components is converted
   * to an array when repairing, and then (unlike legacy) its components are validated too.
   */
  validateComponentsArray(components, context, autoRepair = true) {
    const week = { title: 't', status: 'planned', components }
    const [phase, weekKey] = String(context).split('.')
    const key = weekKey === undefined ? 'week' : weekKey
    const result = this.validateWeeksStructure({ [key]: week }, phase, autoRepair)
    return part(result, week.components)
  }

  /** Legacy enum / type check; arrays are not objects, null is not an object. */
  validatePropertyType(value, expectedType) {
    if (Array.isArray(expectedType)) return expectedType.includes(value)
    if (expectedType === 'array') return Array.isArray(value)
    if (expectedType === 'object') return isObject(value)
    return ['string', 'number', 'boolean'].includes(expectedType) && typeof value === expectedType
  }

  /**
   * `obj` against `{ required, types }`. Present means not undefined/null (legacy treated
   * `false`, `0` and `''` as missing and overwrote them); repairs only when `autoRepair`.
   */
  validateObject(obj, schema, context, autoRepair = true) {
    const result = { valid: true, errors: [], warnings: [], repaired: false, data: obj }
    if (!isObject(obj)) {
      result.errors.push(`${context} is not a valid object`)
      result.valid = false
      return result
    }
    const fix = (prop, what, note) => {
      result.errors.push(`${context}.${prop} ${what}`)
      if (!autoRepair) return
      obj[prop] = this.getDefaultValue(prop)
      result.repaired = true
      result.warnings.push(`Auto-repaired ${context}.${prop}${note}`)
    }
    for (const prop of (schema && schema.required) || []) if (obj[prop] === undefined || obj[prop] === null) fix(prop, 'is required', '')
    for (const [prop, type] of Object.entries((schema && schema.types) || {})) {
      if (obj[prop] !== undefined && obj[prop] !== null && !this.validatePropertyType(obj[prop], type)) fix(prop, 'has invalid type', ' type')
    }
    result.valid = result.errors.length === 0
    return result
  }

  createDefaultPhase() {
    return expand(TEMPLATES.defaultPhase, clock())
  }
  createDefaultWeek() {
    return expand(TEMPLATES.defaultWeek, clock())
  }
  createDefaultComponent() {
    return expand(TEMPLATES.defaultComponent, clock())
  }

  getDefaultValue(property) {
    return defaultIn(SCHEMA.tracker.defaults, property)
  }
  getDefaultPhaseValue(property) {
    return defaultIn(SCHEMA.phase.defaults, property)
  }
  getDefaultWeekValue(property) {
    return defaultIn(SCHEMA.week.defaults, property)
  }
  getDefaultComponentValue(property) {
    return defaultIn(SCHEMA.component.defaults, property)
  }
  getDefaultBackupValue(property) {
    return defaultIn(SCHEMA.backup.defaults, property)
  }

  /**
   * Legacy rewrote the text with regexes (breaking URLs, apostrophes and `false`). Now:
   * hand-edited JSON (comments, trailing commas, single quotes, bare names) is parsed by the
   * tolerant parser and returned as strict JSON; text it cannot parse is returned unchanged.
   */
  fixCommonJsonIssues(content) {
    if (typeof content !== 'string') return content
    try {
      return JSON.stringify(parseTolerant(content), null, 2)
    } catch {
      return content
    }
  }
}

module.exports = ValidationStructure
