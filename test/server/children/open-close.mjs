/**
 * Opens Assay on ASSAY_TRACKING_URI, makes no request (or one read with READ=1), closes it and
 * does nothing else: the process must then exit by itself (no handle left open by the client).
 * Runs the built package (dist/).
 */
import { Assay } from 'assay'

const assay = await Assay.open({ store: process.env.ASSAY_TRACKING_URI })
if (process.env.READ === '1') await assay.store.listRuns({})
await assay.close()
process.stdout.write('closed\n')
