// The newest JavaScript SDK of the hosted access-code API (`npm install
// seam`) against a running `offpin serve`: the offline-code scenario of
// seam_sdk.py.
//
//     node seam_sdk.mjs http://127.0.0.1:PORT seam_KEY
//
// Run it where `seam` is installed (NODE_PATH, or a node_modules beside
// it). The ledger must hold the devices `front-door` and `side-door`
// (standard-10: 10 digits, 3 variances per window, Europe/Paris). Prints
// one line per check and `js sdk: N passed, N failed`; exits non-zero on
// any failure.

import { createRequire } from 'node:module'
import assert from 'node:assert/strict'

// `seam` from the working directory's node_modules (the script lives in
// the checkout, the package in a scratch folder).
const require = createRequire(`${process.cwd()}/`)
const {
  Seam,
  isSeamHttpApiError,
  isSeamHttpInvalidInputError,
  isSeamHttpUnauthorizedError,
} = require('seam')

const [url, key] = process.argv.slice(2)
const seam = new Seam({ apiKey: key, endpoint: url })

const hour = new Date(Date.now() + 16 * 86_400_000)
hour.setUTCMinutes(0, 0, 0)
const at = (h) => new Date(hour.getTime() + h * 3_600_000).toISOString()
const START = at(0)
const END = at(44)
const made = {}
const checks = []
const check = (name, fn) => checks.push([name, fn])

// Runs `fn`, which must throw an API error; returns it.
async function refused(fn) {
  try {
    await fn()
  } catch (e) {
    if (isSeamHttpApiError(e)) return e
    throw e
  }
  throw new assert.AssertionError({ message: 'the request was accepted' })
}

check('creates a time-bound offline code', async () => {
  const c = await seam.accessCodes.create({
    device_id: 'front-door',
    name: 'Ann',
    starts_at: START,
    ends_at: END,
    is_offline_access_code: true,
    max_time_rounding: '1hour',
  })
  assert.equal(c.type, 'time_bound')
  assert.equal(c.is_offline_access_code, true)
  assert.equal(c.code.length, 10)
  assert.equal(c.starts_at, START)
  made.timeBound = c
})

check('creates a one-time offline code', async () => {
  const c = await seam.accessCodes.create({
    device_id: 'front-door',
    starts_at: START,
    is_one_time_use: true,
    is_offline_access_code: true,
  })
  assert.equal(c.is_one_time_use, true)
  assert.ok(
    c.warnings.some((w) => w.warning_code === 'igloo_algopin_must_be_used_within_24_hours'),
  )
  made.oneTime = c
})

check('creates an ongoing offline code', async () => {
  const c = await seam.accessCodes.create({
    device_id: 'front-door',
    name: 'cleaner',
    is_offline_access_code: true,
  })
  assert.equal(c.type, 'ongoing')
  assert.equal(c.starts_at, null)
  made.ongoing = c
})

check('lists by device, a page at a time', async () => {
  const want = [made.timeBound, made.oneTime, made.ongoing].map((c) => c.access_code_id)
  const all = await seam.accessCodes.list({ device_id: 'front-door' })
  assert.deepEqual(all.map((c) => c.access_code_id), want)
  const paginator = seam.createPaginator(
    seam.accessCodes.list({ device_id: 'front-door', limit: 2 }),
  )
  const [first, pagination] = await paginator.firstPage()
  assert.equal(first.length, 2)
  assert.equal(pagination.hasNextPage, true)
  assert.ok(pagination.nextPageUrl.includes(pagination.nextPageCursor))
  const walked = await paginator.flattenToArray()
  assert.deepEqual(walked.map((c) => c.access_code_id), want)
})

check('lists by ids and by search', async () => {
  const ids = [made.ongoing.access_code_id, made.timeBound.access_code_id]
  const got = await seam.accessCodes.list({ access_code_ids: ids })
  assert.deepEqual(got.map((c) => c.access_code_id), [...ids].reverse())
  const ann = await seam.accessCodes.list({ device_id: 'front-door', search: 'ann' })
  assert.deepEqual(ann.map((c) => c.access_code_id), [made.timeBound.access_code_id])
})

check('gets one by id and by PIN', async () => {
  const c = await seam.accessCodes.get({ access_code_id: made.timeBound.access_code_id })
  assert.equal(c.code, made.timeBound.code)
  const byPin = await seam.accessCodes.get({ device_id: 'front-door', code: c.code })
  assert.equal(byPin.access_code_id, c.access_code_id)
})

check('renames one but never moves its window', async () => {
  const id = made.timeBound.access_code_id
  await seam.accessCodes.update({ access_code_id: id, name: 'Ann S.' })
  assert.equal((await seam.accessCodes.get({ access_code_id: id })).name, 'Ann S.')
  const e = await refused(() =>
    seam.accessCodes.update({ access_code_id: id, ends_at: at(50) }),
  )
  assert.ok(isSeamHttpInvalidInputError(e))
  assert.match(e.message, /cannot be recalled/)
})

check('deletes the ongoing code; get shows its revocation PIN', async () => {
  const id = made.ongoing.access_code_id
  await seam.accessCodes.delete({ access_code_id: id })
  const c = await seam.accessCodes.get({ access_code_id: id })
  assert.equal(c.status, 'removing')
  assert.equal(c.revocation_code.length, 10)
  assert.notEqual(c.revocation_code, made.ongoing.code)
  assert.equal(c.warnings[0].warning_code, 'offpin_deleted_still_opens')
})

check('sees the no-variance error with its data', async () => {
  for (let i = 0; i < 2; i++) {
    await seam.accessCodes.create({ device_id: 'front-door', starts_at: START, ends_at: END })
  }
  const e = await refused(() =>
    seam.accessCodes.create({ device_id: 'front-door', starts_at: START, ends_at: END }),
  )
  assert.equal(e.code, 'igloohome_offline_access_code_no_variance_available')
  assert.equal(e.statusCode, 409)
  assert.equal(e.data.device_id, 'front-door')
  assert.equal(e.data.held_by.length, 3)
  await seam.accessCodes.create({
    device_id: 'front-door',
    starts_at: e.data.proposed_starts_at,
    ends_at: e.data.proposed_ends_at,
  })
})

check('bad input names the field', async () => {
  const e = await refused(() =>
    seam.accessCodes.create({ device_id: 'front-door', starts_at: 'soon', ends_at: END }),
  )
  assert.ok(isSeamHttpInvalidInputError(e))
  assert.ok(e.getValidationErrorMessages('starts_at').length > 0)
  const c = await refused(() =>
    seam.accessCodes.list({ device_id: 'front-door', page_cursor: 'not-a-cursor' }),
  )
  assert.ok(c.getValidationErrorMessages('page_cursor').length > 0)
})

check('a 40-day window says to send max_time_rounding "1d"', async () => {
  const start = new Date(hour)
  start.setUTCHours(15)
  const end = new Date(start.getTime() + 40 * 86_400_000)
  const e = await refused(() =>
    seam.accessCodes.create({
      device_id: 'side-door',
      starts_at: start.toISOString(),
      ends_at: end.toISOString(),
    }),
  )
  assert.ok(e.message.includes('max_time_rounding: "1d"'), e.message)
  assert.ok(e.getValidationErrorMessages('max_time_rounding').length > 0)
})

check('unknown keys are refused', async () => {
  const other = new Seam({ apiKey: `seam_000000000000_${'0'.repeat(48)}`, endpoint: url })
  const e = await refused(() => other.devices.list())
  assert.ok(isSeamHttpUnauthorizedError(e))
})

check('devices: filters and pages', async () => {
  const d = await seam.devices.get({ device_id: 'front-door' })
  assert.equal(d.location.time_zone, 'Europe/Paris')
  const some = await seam.devices.list({ device_ids: ['side-door'] })
  assert.deepEqual(some.map((x) => x.device_id), ['side-door'])
  const paginator = seam.createPaginator(seam.devices.list({ limit: 1 }))
  const all = await paginator.flattenToArray()
  assert.deepEqual(all.map((x) => x.device_id), ['front-door', 'side-door'])
})

let passed = 0
let failed = 0
for (const [name, fn] of checks) {
  try {
    await fn()
    passed += 1
    console.log(`ok   ${name}`)
  } catch (e) {
    failed += 1
    console.log(`FAIL ${name}`)
    console.log(e)
  }
}
console.log(`js sdk: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
