'use strict'
// Methods kept in a file of their own (the legacy classes' smaller public methods), put on a
// class's prototype as ordinary, non-enumerable methods that subclasses can override.

function addMethods(Class, methods) {
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(Class.prototype, name, { value: fn, writable: true, configurable: true })
  }
}

module.exports = { addMethods }
