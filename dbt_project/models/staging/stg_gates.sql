with

source as (

    select * from {{ source('catalog', 'gates') }}

),

renamed as (

    select
        gate_id,
        store_id,
        zone_id,
        x_m,
        y_m,
        width_m,

    from source

)

select * from renamed
