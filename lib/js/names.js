'use strict'
// Labels and backup file names, as core/src/names.rs checks and parses them.
const { codedError } = require('./errors')
const { fileStamp, parseStamp } = require('./time')

const MAX_LABEL_LEN = 64
const LABEL = /^[A-Za-z0-9_-]+$/

const DEVICE_NAMES = ['con', 'prn', 'aux', 'nul', 'conin$', 'conout$', 'clock$']

/**
 * Why `name` cannot be one file name on every system (null when it can): a Windows device
 * name with or without an extension, or a name ending in a dot or a space (as core/src/names.rs).
 */
function nonPortable(name) {
  if (/[. ]$/.test(name)) return 'it must not end with a dot or a space (Windows drops them)'
  const stem = name.split('.')[0].replace(/ +$/, '').toLowerCase()
  if (DEVICE_NAMES.includes(stem) || /^(com|lpt)[0-9¹²³]$/.test(stem)) {
    return 'it is a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9)'
  }
  return null
}

function isLabel(label) {
  return (
    typeof label === 'string' && label.length <= MAX_LABEL_LEN && LABEL.test(label) && !nonPortable(label)
  )
}

function checkLabel(label) {
  if (typeof label === 'string' && LABEL.test(label) && nonPortable(label)) {
    throw codedError('EBADLABEL', `Invalid backup label ${JSON.stringify(label)}: ${nonPortable(label)}`)
  }
  if (!isLabel(label)) {
    throw codedError(
      'EBADLABEL',
      `Invalid backup label ${JSON.stringify(String(label))}: use 1 to ${MAX_LABEL_LEN} characters of A-Z, a-z, 0-9, _ and -`,
    )
  }
}

function backupFileName(basename, label, ms, serial) {
  const stamp = fileStamp(ms)
  return serial === 0 ? `${basename}.${label}.${stamp}.bak` : `${basename}.${label}.${stamp}-${serial}.bak`
}

/** `{ basename, label, ms, serial }` for names our backups carry, else null. */
function parseBackupName(name) {
  if (!name.endsWith('.bak')) return null
  const stem = name.slice(0, -4)
  const dot = stem.lastIndexOf('.')
  if (dot < 0) return null
  const rest = stem.slice(0, dot)
  let stamp = stem.slice(dot + 1)
  if (/^\d{13}$/.test(stamp)) {
    return rest ? { basename: rest, label: null, ms: Number(stamp), serial: 0 } : null
  }
  let serial = 0
  if (stamp.length > 24) {
    const tail = stamp.slice(24)
    if (!/^-\d+$/.test(tail)) return null
    serial = Number(tail.slice(1))
    stamp = stamp.slice(0, 24)
  }
  const ms = parseStamp(stamp)
  if (ms === null) return null
  const labelDot = rest.lastIndexOf('.')
  if (labelDot <= 0) return null
  const label = rest.slice(labelDot + 1)
  if (!isLabel(label)) return null
  return { basename: rest.slice(0, labelDot), label, ms, serial }
}

module.exports = { checkLabel, isLabel, nonPortable, backupFileName, parseBackupName, MAX_LABEL_LEN }
