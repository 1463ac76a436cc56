"""Nova's own metadata handler as a WSGI app, for the bench's optional Nova peer.

Nova's code runs unmodified: nova.api.metadata.handler.MetadataRequestHandler (the signed proxy
check with its HMAC, the per-process metadata cache, the path lookup) and
nova.api.metadata.password.handle_password. Only what needs a database is stubbed:

- base.get_metadata_by_instance_id, which loads the instance from the cell database, returns one
  InstanceMetadata built here for BENCH_INSTANCE_ID (any other id is "not found", as Nova's
  InstanceNotFound). The handler calls it only when its cache misses (once per worker, then every
  metadata_cache_expiration seconds); the cache is filled before the first request.
- That InstanceMetadata is made without its constructor (which reads block devices, security groups
  and network info from the database and Neutron) and holds only what a password request reads:
  the instance (an objects.Instance with its uuid, project_id and the password in system_metadata,
  chunked by Nova's own password.convert_password) and `password`, from Nova's own
  password.extract_password, as the constructor sets it.

For the boot storm, ids that start with BENCH_STORM_PREFIX are instances booting without a
password yet: their InstanceMetadata is built the same way on a cache miss, and the POST path of
handle_password, which loads the instance and saves its system_metadata, finds it in this process's
memory ([api] local_metadata_per_cell, so no cell mapping is looked up; Instance.get_by_uuid and
Instance.save stubbed). Both stubs cost less than the database round trips they replace.

Configuration, from the environment: BENCH_PROXY_SECRET, BENCH_INSTANCE_ID, BENCH_PROJECT_ID,
BENCH_PASSWORD, BENCH_STORM_PREFIX. Run with gunicorn from this directory: gunicorn wsgi:application.
"""
import os

from oslo_log import log as logging

import nova.conf
from nova.api.metadata import base
from nova.api.metadata import handler
from nova.api.metadata import password
from nova import exception
from nova import objects

CONF = nova.conf.CONF
# As nova.config.parse_args does for every Nova service: logging's options, then the (empty) files.
logging.register_options(CONF)
CONF([], project='nova', default_config_files=[])
logging.setup(CONF, 'nova')
CONF.set_override('service_metadata_proxy', True, group='neutron')
CONF.set_override('metadata_proxy_shared_secret', os.environ['BENCH_PROXY_SECRET'], group='neutron')
CONF.set_override('local_metadata_per_cell', True, group='api')
objects.register_all()

INSTANCE_ID = os.environ['BENCH_INSTANCE_ID']
STORM_PREFIX = os.environ.get('BENCH_STORM_PREFIX') or None
# The booting instances this process has seen: its stand-in for the cell database.
BOOTING = {}


def _new_instance(instance_id, stored_password):
    instance = objects.Instance(
        uuid=instance_id,
        project_id=os.environ['BENCH_PROJECT_ID'],
        system_metadata=password.convert_password(None, stored_password),
    )
    instance.obj_reset_changes()
    return instance


def _instance_metadata(instance):
    metadata = base.InstanceMetadata.__new__(base.InstanceMetadata)
    metadata.instance = instance
    metadata.uuid = instance.uuid
    metadata.password = password.extract_password(instance)
    metadata.route_configuration = None
    metadata.set_mimetype(base.MIME_TYPE_TEXT_PLAIN)
    return metadata


METADATA = _instance_metadata(_new_instance(INSTANCE_ID, os.environ['BENCH_PASSWORD']))


def _lookup_without_database(instance_id, address, ctxt=None):
    if instance_id == INSTANCE_ID:
        return METADATA
    if not (STORM_PREFIX and instance_id.startswith(STORM_PREFIX)):
        raise exception.InstanceNotFound(instance_id=instance_id)
    if instance_id not in BOOTING:
        BOOTING[instance_id] = _new_instance(instance_id, '')
    return _instance_metadata(BOOTING[instance_id])


def _get_by_uuid_without_database(context, uuid, expected_attrs=None, use_slave=False):
    if uuid not in BOOTING:
        raise exception.InstanceNotFound(instance_id=uuid)
    return BOOTING[uuid]


def _save_without_database(self, *args, **kwargs):
    self.obj_reset_changes()


base.get_metadata_by_instance_id = _lookup_without_database
objects.Instance.get_by_uuid = _get_by_uuid_without_database
objects.Instance.save = _save_without_database

application = handler.MetadataRequestHandler()
application._cache.set('metadata-%s' % INSTANCE_ID, METADATA)
