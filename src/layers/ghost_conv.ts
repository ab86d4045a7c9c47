import * as tf from '@tensorflow/tfjs';
import { NotImplementedError } from '../errors';
export class GhostConv extends tf.layers.Layer {
  static className = 'SCConvGhostConv';
  constructor(args: any) { super(args); throw new NotImplementedError('GhostConv is not implemented yet.'); }
}
