'use strict'
// The system API's routes (only the memory ones in this example).
const http = require('node:http')
const SmartMemoryIndex = require('./src/memory/SmartMemoryIndex')

const index = new SmartMemoryIndex()

function route(req, res) {
  const url = new URL(req.url, 'http://localhost')
  if (url.pathname === '/api/smart-memory-index/search') {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(index.search(url.searchParams.get('q') || '')))
    return
  }
  res.statusCode = 404
  res.end()
}

if (require.main === module) http.createServer(route).listen(Number(process.env.PORT) || 3001)

module.exports = { route, index }
