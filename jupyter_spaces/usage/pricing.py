"""The list price of one usage event, at the price in force when it happened.

Prices come from ``genai-prices`` (pydantic's price library: historic prices with their start
dates, cache read and write rates, tiers), from the snapshot that ships in the installed package;
nothing is fetched at run time. The provider is the agent's (Claude Code: anthropic, Codex CLI:
openai, Gemini CLI: google). Model names the library does not know as written are tried once
more in their vendor form: Amazon Bedrock's ``converse/jp.anthropic.claude-haiku-4-5-20251001-v1:0``
is ``claude-haiku-4-5-20251001``.

A model neither the overrides nor the library know is *unpriced*: its cost is ``None``, never 0.
Every figure is an estimate at list price (no discounts, batch or priority tiers).

Overrides (the ``usage_price_overrides`` setting) map a model name to USD per million tokens:
``{"my-model": {"input": 1.0, "output": 4.0, "cache_read": 0.1, "cache_write": 1.25}}``; a rate
left out is 0. They win over the library for that exact model name, at every time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

PROVIDERS = {"claude": "anthropic", "codex": "openai", "gemini": "google"}
OVERRIDE_RATES = ("input", "output", "cache_read", "cache_write")
_BEDROCK = re.compile(r"(?:^|[./])anthropic\.(claude-[a-z0-9.-]+?)(?:-v\d+(?::\d+)?)?$")
_MILLION = Decimal(1_000_000)
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()


class PriceOverrideError(ValueError):
    """A price override that is not {model: {rate: USD per million tokens}}."""


def check_overrides(value: Any) -> dict[str, dict[str, float]]:
    """The overrides as {model: {rate: float}}, or PriceOverrideError saying what is wrong."""
    if not isinstance(value, Mapping):
        raise PriceOverrideError("usage_price_overrides must map model names to rates")
    out: dict[str, dict[str, float]] = {}
    for model, rates in value.items():
        if not isinstance(model, str) or not model:
            raise PriceOverrideError("usage_price_overrides: model names must be text")
        if not isinstance(rates, Mapping):
            raise PriceOverrideError(f"usage_price_overrides[{model!r}] must map rates to USD")
        unknown = set(rates) - set(OVERRIDE_RATES)
        if unknown:
            raise PriceOverrideError(
                f"usage_price_overrides[{model!r}]: unknown rate(s) {', '.join(sorted(unknown))};"
                f" allowed: {', '.join(OVERRIDE_RATES)}"
            )
        clean: dict[str, float] = {}
        for k, v in rates.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < 1e6:
                raise PriceOverrideError(
                    f"usage_price_overrides[{model!r}][{k!r}] must be USD per million tokens"
                    " from 0 to 1000000"
                )
            clean[k] = float(v)
        out[model] = clean
    return out


def vendor_model(model: str) -> str | None:
    """The vendor's name of a cloud-hosted model (Bedrock's ``…anthropic.claude-…-v1:0``)."""
    m = _BEDROCK.search(model)
    return m.group(1) if m else None


class Pricer:
    """Costs of usage events; thread-safe (lookups are cached per model and day)."""

    def __init__(self, overrides: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.overrides = check_overrides(dict(overrides or {}))

    def cost(
        self,
        agent: str,
        model: str | None,
        time: float,
        input: int,
        output: int,
        cache_read: int,
        cache_creation: int,
    ) -> float | None:
        """USD at list price for one event at ``time`` (POSIX seconds), or None if unpriced."""
        if not model:
            return None
        rates = self.overrides.get(model)
        if rates is not None:
            total = (
                input * rates.get("input", 0.0)
                + output * rates.get("output", 0.0)
                + cache_read * rates.get("cache_read", 0.0)
                + cache_creation * rates.get("cache_write", 0.0)
            )
            return total / 1e6
        day = int(time // 86400) + _EPOCH_ORDINAL  # the UTC day, without a datetime
        price = _library_price(PROVIDERS.get(agent), model, day)
        if price is None:
            return None
        return price(input, output, cache_read, cache_creation)


class _Price:
    """One model's rates on one day, as a callable over token counts.

    genai-prices' own calculation costs tens of microseconds a call, too slow for a year of
    events; its prices are linear in the token counts within a long-context tier (a tier applies
    to the whole request once its total input passes the tier's start), so the coefficients of
    each tier region are read from genai-prices once (by pricing one probe per token kind at a
    total input inside the region) and each event is then a dot product."""

    def __init__(self, model_price: Any) -> None:
        from genai_prices.types import TieredPrices

        self.model_price = model_price
        starts = {
            t.start
            for v in vars(model_price).values()
            if isinstance(v, TieredPrices)
            for t in v.tiers
        }
        self.starts = sorted(starts)
        self._rates: dict[int, tuple[float, float, float, float]] = {}

    def _exact(self, input: int, output: int, cache_read: int, cache_creation: int) -> Decimal:
        from genai_prices import Usage

        # genai-prices counts input_tokens as all input, the cached parts within it.
        usage = Usage(
            input_tokens=input + cache_read + cache_creation,
            output_tokens=output,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_creation,
        )
        return Decimal(self.model_price.calc_price(usage)["total_price"])

    def rates(self, region: int) -> tuple[float, float, float, float]:
        """USD per token of input, output, cache read, cache write in a tier region (0: up to
        the first tier's start; k: above the k-th start)."""
        got = self._rates.get(region)
        if got is None:
            total = (
                self.starts[region - 1] + 1 if region else (self.starts[0] if self.starts else 1)
            )
            total = max(total, 1)
            base = self._exact(total, 0, 0, 0)
            got = (
                float(base) / total,
                float(self._exact(total, total, 0, 0) - base) / total,
                float(self._exact(0, 0, total, 0)) / total,
                float(self._exact(0, 0, 0, total)) / total,
            )
            self._rates[region] = got
        return got

    def __call__(self, input: int, output: int, cache_read: int, cache_creation: int) -> float:
        total = input + cache_read + cache_creation
        region = sum(1 for s in self.starts if total > s)
        a, b, c, d = self.rates(region)
        return a * input + b * output + c * cache_read + d * cache_creation


@lru_cache(maxsize=4096)
def _library_price(provider: str | None, model: str, day: int) -> _Price | None:
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    when = datetime.combine(datetime.fromordinal(day).date(), datetime.min.time(), timezone.utc)
    for ref in dict.fromkeys((model, vendor_model(model))):
        if not ref:
            continue
        for prov in dict.fromkeys((provider, None)):
            try:
                _p, info = snapshot.find_provider_model(ref, None, prov, None)
            except LookupError:
                continue
            return _Price(info.get_prices(when))
    return None


def per_million(value: Decimal) -> Decimal:
    return value * _MILLION
