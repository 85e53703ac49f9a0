// Original file: proto/corral/plugin/v1/control.proto

import type { Long } from '@grpc/proto-loader';

export interface RuntimeStats {
  'unixMs'?: (number | string | Long);
  'goroutines'?: (number | string | Long);
  'heapSys'?: (number | string | Long);
  'heapInuse'?: (number | string | Long);
  'heapAlloc'?: (number | string | Long);
  'numGc'?: (number);
  'openFds'?: (number | string | Long);
}

export interface RuntimeStats__Output {
  'unixMs': (number);
  'goroutines': (number);
  'heapSys': (number);
  'heapInuse': (number);
  'heapAlloc': (number);
  'numGc': (number);
  'openFds': (number);
}
