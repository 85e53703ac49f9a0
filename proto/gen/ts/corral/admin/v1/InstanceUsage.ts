// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface InstanceUsage {
  'atUnixMs'?: (number | string | Long);
  'cpuPercent'?: (number | string);
  'memoryBytes'?: (number | string | Long);
  'openFds'?: (number | string | Long);
  'goroutines'?: (number | string | Long);
  'heapSys'?: (number | string | Long);
  'heapInuse'?: (number | string | Long);
  'heapAlloc'?: (number | string | Long);
  'numGc'?: (number);
}

export interface InstanceUsage__Output {
  'atUnixMs': (number);
  'cpuPercent': (number);
  'memoryBytes': (number);
  'openFds': (number);
  'goroutines': (number);
  'heapSys': (number);
  'heapInuse': (number);
  'heapAlloc': (number);
  'numGc': (number);
}
