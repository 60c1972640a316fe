'use strict'
// A class kept in several files: each part is a class whose methods are put on the main
// class's prototype, non-enumerable as if written in its body (subclasses can override them).

function addMethods(Class, ...parts) {
  for (const part of parts) {
    const methods = Object.getOwnPropertyDescriptors(part.prototype)
    delete methods.constructor
    Object.defineProperties(Class.prototype, methods)
  }
}

module.exports = { addMethods }
