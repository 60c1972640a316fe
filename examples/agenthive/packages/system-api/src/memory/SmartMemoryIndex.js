'use strict'
// An in-memory index of agent memories: add entries, find them by word.

class SmartMemoryIndex {
  constructor() {
    this.entries = new Map()
    this.words = new Map()
  }

  add(id, text) {
    this.entries.set(id, text)
    for (const word of SmartMemoryIndex.words(text)) {
      if (!this.words.has(word)) this.words.set(word, new Set())
      this.words.get(word).add(id)
    }
    return id
  }

  search(query) {
    const hits = SmartMemoryIndex.words(query).map((w) => this.words.get(w) || new Set())
    if (!hits.length) return []
    return [...hits[0]].filter((id) => hits.every((set) => set.has(id))).map((id) => ({ id, text: this.entries.get(id) }))
  }

  static words(text) {
    return String(text).toLowerCase().match(/[a-z0-9]+/g) || []
  }
}

module.exports = SmartMemoryIndex
