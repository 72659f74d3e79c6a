##############################################################################
#
# Copyright (c) 2026 Zope Foundation and Contributors.
# All Rights Reserved.
#
# This software is subject to the provisions of the Zope Public License,
# Version 2.1 (ZPL).  A copy of the ZPL should accompany this distribution.
# THIS SOFTWARE IS PROVIDED "AS IS" AND ANY AND ALL EXPRESS OR IMPLIED
# WARRANTIES ARE DISCLAIMED, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
# WARRANTIES OF TITLE, MERCHANTABILITY, AGAINST INFRINGEMENT, AND FITNESS
# FOR A PARTICULAR PURPOSE.
#
##############################################################################
"""Processing in threads: the processor of a stored service, started and
stopped by the service itself.

This is where the model meets the layer above it: the seed's API starts
processing from the service (``startProcessing()``), and the processors
and this process's threads are the processing layer's
(``processing.processor``, ``processing._threads``).  They are imported
when a service starts, stops or looks for its thread, never when the
model is imported.
"""
import logging

from z3c.taskqueue.model import _servicepath


log = logging.getLogger('z3c.taskqueue')


def _threads():
    from z3c.taskqueue.processing import _threads
    return _threads


class DefaultProcessorFactory:
    """The ``processorFactory`` of a service that has not set its own:
    ``processing.processor.SimpleProcessor``, imported when it is read.
    A service that sets one keeps it in its ``__dict__``, which wins."""

    def __get__(self, service, cls=None):
        from z3c.taskqueue.processing.processor import SimpleProcessor
        return SimpleProcessor


class ProcessingMixin:
    """The part of the task service that starts, stops and finds its
    processor thread in this process (see ``processing._threads``)."""

    processorFactory = DefaultProcessorFactory()

    def startProcessing(self):
        self.startProcessingAt(_servicepath.servicePath(self))

    def startProcessingAt(self, path):
        if self._p_jar is None:
            raise ValueError('the task service is not stored in a database')
        started = _threads().start(self.processorFactory(
            self._p_jar.db(), path, **self.processorArguments),
            self._processorKey())
        if started:
            log.info('starting service %s', self._displayName(path))
        return started

    def stopProcessing(self, timeout=None):
        name = self._threadName()
        if name is not None and _threads().isRunning(name):
            log.info('stopping service %s', self._displayName())
            _threads().stop(name, timeout)

    def isProcessing(self):
        name = self._threadName()
        return name is not None and _threads().isRunning(name)

    def _processorKey(self):
        # Which service of which database of this process.
        return (id(self._p_jar.db()), self._p_oid)

    def _threadName(self):
        if self._p_jar is None:
            return None
        return _threads().nameFor(self._processorKey())

    def _displayName(self, path=None):
        # A site's utility by the name autostart knows (Plone@tasks), not
        # the __name__ GenericSetup gives it (...ITaskService-tasks).
        thread = self._threadName() or ''
        if path is None and thread.startswith('taskqueue.'):
            path = thread[len('taskqueue.'):]
        if isinstance(path, str) and '@' in path:
            return path
        if self.__name__:
            return self.__name__
        return _servicepath.pathName(path) if path else repr(self)
