'use strict'
const { describe, test } = require('node:test')
const assert = require('node:assert')
const SmartMemoryIndex = require('../../src/memory/SmartMemoryIndex')

describe('SmartMemoryIndex', () => {
  test('finds an entry by every word of the query', () => {
    const index = new SmartMemoryIndex()
    index.add('a', 'Agents share memory')
    index.add('b', 'Agents plan work')
    assert.deepStrictEqual(index.search('agents memory'), [{ id: 'a', text: 'Agents share memory' }])
  })

  test('an empty query finds nothing', () => {
    assert.deepStrictEqual(new SmartMemoryIndex().search(''), [])
  })
})
