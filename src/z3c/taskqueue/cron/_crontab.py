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
"""Crontab expressions: five fields of numbers, names, ranges and steps."""
import collections
import re


MONTH_NAMES = ('jan', 'feb', 'mar', 'apr', 'may', 'jun',
               'jul', 'aug', 'sep', 'oct', 'nov', 'dec')
DAY_NAMES = ('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat')

# (name, smallest value, largest value, names counted from the smallest)
FIELDS = (
    ('minute', 0, 59, None),
    ('hour', 0, 23, None),
    ('day of month', 1, 31, None),
    ('month', 1, 12, MONTH_NAMES),
    ('day of week', 0, 7, DAY_NAMES),
)

# What cronie's @ names stand for.  Written out as fields they keep
# cronie's flags too: @hourly is a wall-clock entry (its hour is '*'),
# the others run at a fixed local time.
MACROS = {
    '@yearly': '0 0 1 1 *',
    '@annually': '0 0 1 1 *',
    '@monthly': '0 0 1 * *',
    '@weekly': '0 0 * * 0',
    '@daily': '0 0 * * *',
    '@midnight': '0 0 * * *',
    '@hourly': '0 * * * *',
}

_MAX_DAYS = (None, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_ITEM = re.compile(r'^(?:(\*)|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/(.*))?$',
                   re.IGNORECASE)


Crontab = collections.namedtuple('Crontab', [
    'expression',
    'minutes',      # sorted tuples of the values each field names
    'hours',
    'days',
    'months',
    'weekdays',     # 0 = Sunday ... 6 = Saturday (7 is folded into 0)
    'dom_star',      # whether the day-of-month field starts with '*'
    'dow_star',      # whether the day-of-week field starts with '*'
    'wall',         # whether the minute or the hour field starts with '*'
])


def parse(expression):
    """Return the ``Crontab`` of ``expression``, or raise ValueError.

    The message names the field and the value that is wrong.
    """
    if not isinstance(expression, str):
        raise ValueError(
            'cron must be a crontab expression such as %r, not %r'
            % ('*/15 9-17 * * MON-FRI', expression))
    text = expression.strip()
    if text.startswith('@'):
        try:
            text = MACROS[text.lower()]
        except KeyError:
            raise ValueError(
                'cron=%r: unknown name %s; expected one of %s'
                % (expression, text, ', '.join(sorted(MACROS)))) from None
    parts = text.split()
    if len(parts) != len(FIELDS):
        raise ValueError(
            'cron=%r has %d fields; expected 5 (minute hour day-of-month'
            ' month day-of-week) or an @ name such as @daily'
            % (expression, len(parts)))
    values = [_parse_field(expression, part, *field)
              for part, field in zip(parts, FIELDS)]
    minutes, hours, days, months, weekdays = values
    weekdays = tuple(sorted({day % 7 for day in weekdays}))
    dom_star, dow_star = parts[2].startswith('*'), parts[4].startswith('*')
    if dom_star or dow_star:
        # Both day fields must match: a day that no month has never comes.
        if not any(day <= _MAX_DAYS[month]
                   for month in months for day in days):
            raise ValueError(
                'cron=%r: day of month %s never falls in month %s: the'
                ' job would never run' % (expression, parts[2], parts[3]))
    wall = parts[0].startswith('*') or parts[1].startswith('*')
    return Crontab(expression, minutes, hours, days, months, weekdays,
                   dom_star, dow_star, wall)


def _parse_field(expression, text, name, lo, hi, names):
    # The common cases first: '*' and a plain number.
    if text == '*':
        return tuple(range(lo, hi + 1))
    if text.isdigit() and text.isascii():
        return (_value(expression, name, lo, hi, names, text),)
    result = set()
    for item in text.split(','):
        if item.isdigit() and item.isascii():
            result.add(_value(expression, name, lo, hi, names, item))
            continue
        match = _ITEM.match(item)
        if match is None:
            raise ValueError('cron=%r: %s %r is not a number, a range or *'
                             % (expression, name, item or text))
        star, first, last, step = match.groups()
        if star:
            first, last = lo, hi
        else:
            first = _value(expression, name, lo, hi, names, first)
            if last is None:
                if step is not None:
                    raise ValueError(
                        'cron=%r: %s %r: a step needs a range or *, as in'
                        ' %d-%d/%s' % (expression, name, item, first, hi,
                                       step))
                last = first
            else:
                last = _value(expression, name, lo, hi, names, last)
                if last < first:
                    raise ValueError(
                        'cron=%r: %s %r: the range runs backwards'
                        % (expression, name, item))
        if step is None:
            step = 1
        elif step.isascii() and step.isdigit() and int(step) > 0:
            step = int(step)
        else:
            raise ValueError(
                'cron=%r: %s %r: the step must be a whole number from 1 up'
                % (expression, name, item))
        result.update(range(first, last + 1, step))
    return tuple(sorted(result))


def _value(expression, name, lo, hi, names, text):
    if text.isdigit():
        value = int(text)
        if not lo <= value <= hi:
            raise ValueError('cron=%r: %s %s is out of range %d-%d'
                             % (expression, name, text, lo, hi))
        return value
    if names is not None and text.lower() in names:
        return lo + names.index(text.lower())
    if names is None:
        raise ValueError('cron=%r: %s %r is not a number'
                         % (expression, name, text))
    raise ValueError('cron=%r: %s %r is not a number or a name (%s-%s)'
                     % (expression, name, text, names[0].upper(),
                        names[-1].upper()))
