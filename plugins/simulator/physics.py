"""Vectorised battery physics of a whole site: every unit of every string stepped at once (numpy).

Per unit: OCV(SOC, T), ohmic resistance, charge-transfer polarisation, Tafel float/gassing
current, Peukert capacity, self-discharge, lumped thermal model, ageing, bypass current.
Per string: a charger (float with temperature compensation, current limit, boost) or a
constant-power UPS load on mains failure. The equations are documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plugins.simulator.chemistry import CellParameters, cells_per_unit, ocv_per_cell, parameters

SECONDS_PER_YEAR = 365.25 * 86400.0
NEWTON_STEP_LIMIT_V = 0.3  # per block: keeps Newton on the exponential gassing branch stable
ACCEPTANCE_SOC_WINDOW = 0.1  # charge acceptance falls linearly to 0 over the last 10 % of SOC
RI_TEMPCO_PER_K = 0.006  # lead-acid Ri rises ~0.6 %/K below 25 °C (electrolyte conductivity)


@dataclass(frozen=True)
class StringSetup:
    """What the physics needs to know about one string (from the site configuration)."""

    chemistry: str
    nominal_voltage_v: float
    rated_capacity_ah: float
    count: int
    ups_power_w: float | None = None  # constant-power load on mains failure (None: C10-ish default)


class Plant:
    """All batteries of a site, their chargers and UPS loads.

    Arrays are indexed by the site-wide unit index (strings concatenated in order);
    ``string_index[u]`` says which string unit ``u`` belongs to.
    """

    def __init__(
        self,
        strings: list[StringSetup],
        rng: np.random.Generator,
        *,
        unit_spread: float = 1.0,
        initial_soc: float = 1.0,
        ambient_c: float = 24.0,
    ) -> None:
        self.setups = strings
        self.params: list[CellParameters] = [parameters(s.chemistry) for s in strings]
        counts = np.array([s.count for s in strings], dtype=int)
        self.n_strings = len(strings)
        self.string_index = np.repeat(np.arange(self.n_strings), counts)
        self.first_unit = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
        n = int(counts.sum())
        self.n_units = n
        si = self.string_index

        def per_string(values: list[float]) -> np.ndarray:
            return np.asarray(values, dtype=float)[si] if n else np.zeros(0)

        cells = per_string([cells_per_unit(s.chemistry, s.nominal_voltage_v) for s in strings])
        cap = per_string([s.rated_capacity_ah for s in strings])
        p = self.params
        self.cells = cells
        # unit-to-unit spread from the seed: capacity ±3 %, Ri ±8 %, float current (I0) ×/÷ e^0.35
        spread = max(0.0, unit_spread)
        self.cap0_ah = cap * (1.0 + 0.03 * spread * rng.standard_normal(n))
        self.capacity_fraction = np.ones(n)  # ageing: 1 new, 0.8 end of life
        self.r0_ohm = (
            cells
            * per_string([q.ri_ohm_ah for q in p])
            / cap
            * np.exp(0.08 * spread * rng.standard_normal(n))
        )
        self.rct_ohm = cells * per_string([q.rct_ohm_ah for q in p]) / cap
        self.b_v = cells * per_string([q.tafel_v_per_decade for q in p]) / np.log(10.0)
        # I0 chosen so the float current at float voltage, full, 25 °C, is the datasheet figure
        eta_float = cells * (per_string([q.float_v for q in p]) - per_string([q.ocv_v[-1] for q in p]))
        i_float = cap * per_string([q.float_current_a_per_ah for q in p])
        self.i0_25_a = (
            i_float * np.exp(-eta_float / self.b_v) * np.exp(0.35 * spread * rng.standard_normal(n))
        )
        self.doubling_k = per_string([q.float_current_doubling_k for q in p])
        self.peukert_k = per_string([q.peukert_k for q in p])
        self.self_discharge_per_s = per_string([q.self_discharge_per_month for q in p]) / (30 * 86400.0)
        self.fade_per_s = 0.2 / (per_string([q.calendar_life_years for q in p]) * SECONDS_PER_YEAR)
        self.recombination = per_string([q.gas_recombination for q in p])
        size = cells * cap
        self.heat_capacity_j_per_k = size * per_string([q.heat_capacity_j_per_k_ah for q in p])
        # cooling scales with surface, i.e. size^(2/3); blocks in the middle of a shelf run warmer
        pos = (np.arange(n) - self.first_unit[si]) / np.maximum(counts[si] - 1, 1)
        packing = 1.0 - 0.15 * np.sin(np.pi * pos)
        g = per_string([q.surface_w_per_k_ah for q in p]) * size ** (2 / 3) * 10.0
        self.conductance_w_per_k = g * packing * (1.0 + 0.05 * spread * rng.standard_normal(n))
        # scenario knobs, all neutral by default
        self.i0_multiplier = np.ones(n)
        self.ri_multiplier = np.ones(n)
        self.cooling_multiplier = np.ones(n)
        self.short_conductance_s = np.zeros(n)  # internal soft short (thermal runaway), siemens at 25 °C
        self.ri_ramp_per_s = np.zeros(n)  # scenario "ri_ramp": relative Ri rise per second
        self.capacity_loss_per_s = np.zeros(n)  # scenario "capacity_fade"
        self.bypass_a = np.zeros(n)  # set by the monitors: duty × bypass current
        # state
        self.soc = np.full(n, float(np.clip(initial_soc, 0.0, 1.0)))
        self.temp_c = np.full(n, float(ambient_c)) + 0.5
        self.eta_v = np.zeros(n)
        self.voltage_v = np.zeros(n)
        self.cell_current_a = np.zeros(n)
        self.gas_current_a = np.zeros(n)
        self.react_current_a = np.zeros(n)
        self.short_current_a = np.zeros(n)
        self.heat_w = np.zeros(n)
        # strings
        s_cells = np.bincount(si, weights=cells, minlength=self.n_strings)
        self.string_cells = s_cells
        self.mains_on = np.ones(self.n_strings, dtype=bool)
        # a tripped charger (thermal-runaway action) leaves the string open; the load stays on mains
        self.charger_on = np.ones(self.n_strings, dtype=bool)
        self.boost_until = np.full(self.n_strings, -np.inf)
        self.load_cut_off = np.zeros(self.n_strings, dtype=bool)
        self.charger_limit_a = np.array(
            [s.rated_capacity_ah * q.charge_current_limit_c for s, q in zip(strings, p, strict=True)]
        )
        self.temperature_compensation = np.ones(self.n_strings, dtype=bool)
        self.ups_power_w = np.array(
            [
                s.ups_power_w
                if s.ups_power_w is not None
                # default UPS: draws about the 1-hour rate of the string (~0.55·C10 A at nominal)
                else 0.55 * s.rated_capacity_ah * s.nominal_voltage_v * s.count
                for s in strings
            ]
        )
        self.string_current_a = np.zeros(self.n_strings)
        self.string_voltage_v = np.zeros(self.n_strings)
        self.t_s = 0.0
        self._chem_groups = [
            (q, np.flatnonzero(np.isin(si, [k for k, pk in enumerate(p) if pk.name == q.name])))
            for q in {q.name: q for q in p}.values()
        ]
        # start on float: Newton from the float point, iterated to convergence once
        self.eta_v = self.b_v * np.log(np.maximum(i_float, 1e-9) / np.maximum(self.i0_25_a, 1e-12))
        self.string_current_a = np.bincount(si, weights=i_float, minlength=self.n_strings) / np.maximum(
            counts, 1
        )
        self._solve(np.full(n, float(ambient_c)), iterations=40)

    # ------------------------------------------------------------------ per-unit relations
    def ocv_v(self) -> np.ndarray:
        """Open-circuit voltage of every unit now."""
        out = np.empty(self.n_units)
        for q, idx in self._chem_groups:
            out[idx] = ocv_per_cell(q, self.soc[idx], self.temp_c[idx]) * self.cells[idx]
        return out

    def ri_ohm(self) -> np.ndarray:
        """Ohmic internal resistance now (ageing, scenario ramp, cold electrolyte)."""
        ageing = 1.0 + 2.0 * (1.0 - self.capacity_fraction)
        cold = 1.0 + RI_TEMPCO_PER_K * np.maximum(0.0, 25.0 - self.temp_c)
        return self.r0_ohm * ageing * self.ri_multiplier * cold

    def capacity_ah(self) -> np.ndarray:
        return self.cap0_ah * self.capacity_fraction

    def _thermal_factor(self) -> np.ndarray:
        return 2.0 ** ((self.temp_c - 25.0) / self.doubling_k)

    def charger_setpoint_v(self) -> np.ndarray:
        """Per string: the charger's voltage set-point (float or boost, temperature compensated)."""
        out = np.empty(self.n_strings)
        mean_t = np.bincount(self.string_index, weights=self.temp_c, minlength=self.n_strings) / np.maximum(
            np.bincount(self.string_index, minlength=self.n_strings), 1
        )
        for k, q in enumerate(self.params):
            per_cell = q.boost_v if self.t_s < self.boost_until[k] else q.float_v
            if self.temperature_compensation[k]:
                per_cell += q.float_tempco_v_per_k * np.clip(mean_t[k] - 25.0, -15.0, 20.0)
            out[k] = per_cell * self.string_cells[k]
        return out

    def cutoff_v(self) -> np.ndarray:
        return np.array([q.cutoff_v for q in self.params]) * self.string_cells

    # ------------------------------------------------------------------ the solver
    def _solve(self, ambient_c: np.ndarray, iterations: int = 4) -> None:
        """Find the string currents and unit overpotentials consistent with chargers and loads.

        Unknowns: the current I of each string and the overpotential η of each unit, with
        i_react(η) + I0·e^(η/b) = I − I_bypass − I_short per unit and, per string, either
        ΣV = V_set (charger, I within 0…limit), V·I = −P (UPS) or I = 0 (open). Newton on
        both, warm-started from the last step, converges in a few iterations.
        """
        _ = ambient_c
        si = self.string_index
        ocv = self.ocv_v()
        r = self.ri_ohm()
        i0 = self.i0_25_a * self._thermal_factor() * self.i0_multiplier
        acceptance = np.clip((1.0 - self.soc) / ACCEPTANCE_SOC_WINDOW, 0.0, 1.0)
        r_charge = self.rct_ohm / np.maximum(acceptance, 1e-6)
        # concentration polarisation: discharge resistance grows as the active material runs out
        r_discharge = self.rct_ohm * (1.0 + 0.02 / np.maximum(self.soc, 1e-4))
        # the soft short grows with temperature until the separator has melted through (~90 °C)
        short_growth = 2.0 ** ((np.minimum(self.temp_c, 90.0) - 25.0) / 10.0)
        self.short_current_a = self.short_conductance_s * short_growth * np.maximum(self.voltage_v, 0.0)
        v_set = self.charger_setpoint_v()
        cut = self.cutoff_v()
        current = self.string_current_a.copy()
        eta = self.eta_v
        for _ in range(iterations):
            ib = current[si] - self.bypass_a - self.short_current_a
            for _inner in range(2):
                r_pol = np.where(eta >= 0.0, r_charge, r_discharge)
                i_gas = i0 * np.exp(np.minimum(eta / self.b_v, 50.0))
                f = eta / r_pol + i_gas - ib
                slope = 1.0 / r_pol + i_gas / self.b_v
                eta = eta - np.clip(f / slope, -NEWTON_STEP_LIMIT_V, NEWTON_STEP_LIMIT_V)
            v = ocv + ib * r + eta
            vs = np.bincount(si, weights=v, minlength=self.n_strings)
            dvs = np.bincount(si, weights=r + 1.0 / slope, minlength=self.n_strings)
            charger = current - (vs - v_set) / dvs
            charger = np.clip(charger, 0.0, self.charger_limit_a)
            ups = current - (vs * current + self.ups_power_w) / (vs + current * dvs)
            ups = np.minimum(ups, 0.0)
            on_battery = ~self.mains_on & ~self.load_cut_off
            charging = self.mains_on & self.charger_on
            current = np.where(charging, charger, np.where(on_battery, ups, 0.0))
        ib = current[si] - self.bypass_a - self.short_current_a
        r_pol = np.where(eta >= 0.0, r_charge, r_discharge)
        self.eta_v = eta
        self.gas_current_a = i0 * np.exp(np.minimum(eta / self.b_v, 50.0))
        self.react_current_a = eta / r_pol
        self.cell_current_a = ib
        self.voltage_v = ocv + ib * r + eta
        self.string_current_a = current
        self.string_voltage_v = np.bincount(si, weights=self.voltage_v, minlength=self.n_strings)
        # the UPS shuts down at its end-of-discharge voltage and stays off until mains return
        self.load_cut_off |= ~self.mains_on & (self.string_voltage_v < cut) & (current < 0)
        self._heat_inputs(r)

    def _heat_inputs(self, r: np.ndarray) -> None:
        ib, eta = self.cell_current_a, self.eta_v
        ocv_part = self.voltage_v - ib * r - eta
        self.heat_w = (
            ib * ib * r
            + np.abs(self.react_current_a * eta)
            + self.gas_current_a * (np.maximum(eta, 0.0) + self.recombination * ocv_part)
            + self.short_current_a * np.maximum(self.voltage_v, 0.0)
        )

    # ------------------------------------------------------------------ time
    def step(self, dt_s: float, ambient_c: float) -> None:
        """Advance every unit and string by ``dt_s`` seconds at ``ambient_c``."""
        if self.n_units == 0:
            self.t_s += dt_s
            return
        amb = np.full(self.n_units, ambient_c)
        self._solve(amb)
        cap = self.capacity_ah()
        i_react = self.react_current_a
        i10 = cap / 10.0
        # Peukert: above the 10-hour rate each ampere-hour taken costs more of the capacity
        peukert = np.where(i_react < 0, np.maximum(np.abs(i_react) / i10, 1.0) ** (self.peukert_k - 1.0), 1.0)
        d_soc = i_react * peukert * dt_s / (3600.0 * cap)
        d_soc -= self.self_discharge_per_s * self._thermal_factor() * dt_s
        self.soc = np.clip(self.soc + d_soc, 0.0, 1.0)
        cooling = self.conductance_w_per_k * self.cooling_multiplier
        # exact exponential update of the lumped RC thermal model (stable for any dt)
        t_eq = amb + self.heat_w / cooling
        self.temp_c = t_eq + (self.temp_c - t_eq) * np.exp(-dt_s * cooling / self.heat_capacity_j_per_k)
        # calendar ageing: Arrhenius, rate doubles per 10 K
        self.capacity_fraction -= self.fade_per_s * 2.0 ** ((self.temp_c - 25.0) / 10.0) * dt_s
        self.capacity_fraction = np.maximum(self.capacity_fraction - self.capacity_loss_per_s * dt_s, 0.05)
        self.ri_multiplier += self.ri_multiplier * self.ri_ramp_per_s * dt_s
        self.load_cut_off &= ~self.mains_on  # the UPS load comes back with the mains
        self.t_s += dt_s

    # ------------------------------------------------------------------ views
    def unit(self, string: int, position: int) -> int:
        """Site-wide index of ``position`` (1-based) of ``string``."""
        if not 0 <= string < self.n_strings or not 1 <= position <= self.setups[string].count:
            raise IndexError(f"no unit at string {string}, position {position}")
        return int(self.first_unit[string]) + position - 1

    def ripple_a(self) -> np.ndarray:
        """Per string: AC ripple current RMS (rectifier on mains, inverter on battery)."""
        base = np.array([0.01 * s.rated_capacity_ah for s in self.setups])
        on = base + 0.02 * np.abs(self.string_current_a)
        on_inverter = 0.15 * np.abs(self.string_current_a)
        return np.where(self.mains_on, np.where(self.charger_on, on, 0.0), on_inverter)
