import * as tf from '@tensorflow/tfjs';
import { NotImplementedError } from '../errors';
export class OctaveConv extends tf.layers.Layer {
  static className = 'SCConvOctaveConv';
  constructor(args: any) { super(args); throw new NotImplementedError('OctaveConv is not implemented yet.'); }
}
