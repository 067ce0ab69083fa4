i+A+S1I2trAYzN/FIZPb/knDtFEI/A9I/bsyF8bljHBx/pdhU+5lh6ZoZqOFKy2jK1/i9nfK/R5CNZa0ect0Aw==
