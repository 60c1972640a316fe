#!/usr/bin/env node
'use strict'
require('../lib/safe-file-operations').main()
