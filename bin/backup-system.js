#!/usr/bin/env node
'use strict'
require('../lib/backup-system').main()
