// Original file: proto/corral/admin/v1/admin.proto

import type { Release as _corral_admin_v1_Release, Release__Output as _corral_admin_v1_Release__Output } from '../../../corral/admin/v1/Release.ts';

export interface ListReleasesResponse {
  'releases'?: (_corral_admin_v1_Release)[];
}

export interface ListReleasesResponse__Output {
  'releases': (_corral_admin_v1_Release__Output)[];
}
