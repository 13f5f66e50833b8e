"""Channel adapters, one package per provider (contract: :mod:`channels.base`)."""
