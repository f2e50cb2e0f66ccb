"""Settings shared by the whole suite."""
from hypothesis import HealthCheck, settings

# Property tests check behaviour, never speed: a busy CI machine must not fail
# them on hypothesis's per-example deadline (speed lives in tests/bench/).
settings.register_profile("tillkit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tillkit")
