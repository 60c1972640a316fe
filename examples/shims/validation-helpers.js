module.exports = require('session-resilience/validation-helpers')
if (require.main === module) module.exports.main()
