// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface DeployResponse {
  'plugin'?: (string);
  'release'?: (string);
  'previous'?: (string);
  'instance'?: (string);
  'changed'?: (boolean);
  'durationMs'?: (number | string | Long);
}

export interface DeployResponse__Output {
  'plugin': (string);
  'release': (string);
  'previous': (string);
  'instance': (string);
  'changed': (boolean);
  'durationMs': (number);
}
