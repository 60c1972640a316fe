'use strict'
// `agenthive memory search <words>`: the CLI command over the memory index.
const SmartMemoryIndex = require('../../../system-api/src/memory/SmartMemoryIndex')

module.exports = {
  command: 'memory search <words..>',
  describe: 'Search the agent memory index',
  handler({ words }, index = new SmartMemoryIndex()) {
    for (const hit of index.search(words.join(' '))) console.log(`${hit.id}: ${hit.text}`)
  },
}
