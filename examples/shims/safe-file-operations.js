module.exports = require('session-resilience/safe-file-operations')
if (require.main === module) module.exports.main()
