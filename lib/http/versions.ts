/** Metadata versions that serve `password`, as Nova lists them. */
export const PASSWORD_VERSIONS: readonly string[] = [
  '2013-04-04',
  '2013-10-17',
  '2015-10-15',
  '2016-06-30',
  '2016-10-06',
  '2017-02-22',
  '2018-08-27',
  '2020-10-14',
  '2025-04-04',
  'latest',
];
