"""The deals register (issue 17) as pure computation: agreement and measure lifecycles on a date, money that is never
summed across natures or currencies, the coverage of the alliance's single-supplier gap by partner countries, and
the export restrictions in force. No I/O: :mod:`lodeline.services.deals` loads the register and the market tables."""
