/**
 * Parameters and FLOPs of a sweep row's model, computed by building it (no training), for report
 * rows that have no run yet. The row's flags go through the train CLI's own parser and defaults, so
 * the model is exactly the one `npm run train` would build.
 */
import { countFlops, countParams } from '../analysis/complexity';
import { parseTrainArgs } from '../train/args';
import { resolveConfig } from '../train/config';
import { buildModel } from '../train/train';
import type { ComplexityFn } from './report';
import { trainArgs } from './sweep';

export const modelComplexity: ComplexityFn = async (settings) => {
  let model;
  try {
    const c = resolveConfig(parseTrainArgs(trainArgs(settings)).config);
    model = buildModel(c);
    return { params: countParams(model), flops: countFlops(model, [32, 32, 3]) };
  } catch {
    return null; // a row the library cannot build (its flags are reported when it runs)
  } finally {
    model?.dispose();
  }
};
